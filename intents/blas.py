"""BLAS on one thread: around the model's small products, or for the whole of a serving process.

The members' and the help centre's products are small (a 2,000 x 384 product takes ~0.03 ms),
and BLAS threads waking beside onnxruntime's cost more than they save (bench/README.md). A
serving process pins BLAS once (:func:`pin_to_one_thread`); elsewhere (training, evaluation in
a process that also fits models) each product limits it for its own block (:func:`one_thread`),
at the price of four library calls, each of which gives the GIL up.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from functools import cache

from threadpoolctl import ThreadpoolController, threadpool_limits

_state = {"pinned": False}  # set once this process limited BLAS to one thread for good


@cache
def _controller() -> ThreadpoolController:
    """The process's thread pools (scanning the loaded libraries once)."""
    return ThreadpoolController()


def pin_to_one_thread() -> None:
    """Limit BLAS to one thread for the rest of this process (a serving one: nothing in it
    wants more; a limit reaches only the libraries already loaded)."""
    threadpool_limits(limits=1, user_api="blas")
    _state["pinned"] = True


def pinned() -> bool:
    """Whether this process pinned BLAS to one thread."""
    return _state["pinned"]


def one_thread() -> AbstractContextManager[object]:
    """BLAS on one thread for the block (nothing to do once the process is pinned)."""
    if _state["pinned"]:
        return contextlib.nullcontext()
    limit: AbstractContextManager[object] = _controller().limit(limits=1, user_api="blas")
    return limit
