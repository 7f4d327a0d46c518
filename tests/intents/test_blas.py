"""BLAS on one thread: pinned for a serving process, or limited around a block.

Each test runs in a child process with two BLAS threads to start from: a pin lasts for the
process, and the test process must keep its own threads.
"""

from __future__ import annotations

import os
import subprocess
import sys

# the child's helper: the thread counts of the BLAS libraries loaded (numpy's among them)
COUNT = (
    "import numpy\n"
    "from threadpoolctl import threadpool_info\n"
    "def count():\n"
    "    return {i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}\n"
)


def in_child(code: str) -> str:
    """The first line ``code`` prints, run after :data:`COUNT` in a child with 2 BLAS threads."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    return subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", COUNT + code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")[0]


def test_pinning_blas_keeps_it_to_one_thread_for_the_whole_process() -> None:
    out = in_child(
        "from intents.blas import pin_to_one_thread, pinned\n"
        "before = count()\n"
        "pin_to_one_thread()\n"
        "print(before, count(), pinned())\n"
    )
    assert out == "{2} {1} True"


def test_one_thread_limits_blas_for_the_block_only_until_pinned() -> None:
    """Unpinned, a block runs on one BLAS thread and the count comes back after it; pinned,
    the block changes nothing (the whole process is on one already)."""
    out = in_child(
        "from intents.blas import one_thread, pin_to_one_thread\n"
        "with one_thread():\n"
        "    inside = count()\n"
        "after = count()\n"
        "pin_to_one_thread()\n"
        "with one_thread():\n"
        "    pinned_inside = count()\n"
        "print(inside, after, pinned_inside, count())\n"
    )
    assert out == "{1} {2} {1} {1}"
