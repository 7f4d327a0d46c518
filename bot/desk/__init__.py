"""The human side: hand-off, tickets, the desk's queued work, agent hours and agents' text."""
