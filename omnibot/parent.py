"""A child process that must not outlive the process that started it."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def follow_parent(pid: int) -> None:
    """End this process (SIGTERM) when process ``pid``, its parent, dies: a tuning child of a
    killed server must not tune on, and later beside the tuner that takes its lock over."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != pid:  # the parent died before the request above
        raise SystemExit(f"the serving process {pid} is gone; not tuning")
