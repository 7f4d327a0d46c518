"""``python -m bot`` is the ``omnibot`` command."""

from bot.cli import main

main()
