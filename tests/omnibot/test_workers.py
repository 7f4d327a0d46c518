"""The supervisor's children: their commands by role, and how many of each ``--split`` starts."""

from __future__ import annotations

import sys

from omnibot.roles import Role
from omnibot.workers import command, split_sizes


def test_split_sizes_one_front_and_one_answer_process_on_two_cores() -> None:
    assert split_sizes(1) == (1, 1)
    assert split_sizes(2) == (1, 1)
    assert split_sizes(4) == (1, 2)
    assert split_sizes(8) == (2, 4)


def test_children_listen_on_the_shared_port_unless_they_only_answer() -> None:
    base = [sys.executable, "-m", "omnibot", "serve", "--workers", "1", "--role"]
    assert command(Role.FRONT) == [*base, "front", "--reuse-port"]
    assert command(Role.ALL) == [*base, "all", "--reuse-port"]
    assert command(Role.ANSWER) == [*base, "answer"]
