"""The local agent console (``/agent``) and the log desk beside it."""
