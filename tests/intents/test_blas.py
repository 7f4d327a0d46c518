"""BLAS on one thread: pinned for a serving process, or limited around a block."""

from __future__ import annotations

import os
import subprocess
import sys


def test_pinning_blas_keeps_it_to_one_thread_for_the_whole_process() -> None:
    """A serving process pins BLAS once (in a child here: the pin lasts for the process)."""
    code = (
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "from intents.blas import pin_to_one_thread, pinned\n"
        "before = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
        "pin_to_one_thread()\n"
        "after = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
        "print(set(before), set(after), pinned())\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")[0]
    assert out == "{2} {1} True"


def test_one_thread_limits_blas_for_the_block_only_until_pinned() -> None:
    """Unpinned, a block runs on one BLAS thread and the count comes back after it; pinned,
    the block changes nothing (the whole process is on one already)."""
    code = (
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "from intents.blas import one_thread, pin_to_one_thread\n"
        "def count():\n"
        "    return {i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}\n"
        "with one_thread():\n"
        "    inside = count()\n"
        "after = count()\n"
        "pin_to_one_thread()\n"
        "with one_thread():\n"
        "    pinned_inside = count()\n"
        "print(inside, after, pinned_inside, count())\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")[0]
    assert out == "{1} {2} {1} {1}"
