"""The agent desk in Slack: events through slack-bolt, tickets as threads, blocks and text."""
