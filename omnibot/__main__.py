"""``python -m omnibot`` is the ``omnibot`` command."""

from omnibot.cli import main

main()
