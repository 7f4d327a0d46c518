"""Channel connectors: each translates one vendor's wire format to and from ``bot.models``."""
