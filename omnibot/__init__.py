"""The composition root: the only package that wires ``bot``, ``connectors`` and ``intents``
together (the app, the CLI, worker processes, settings and logging)."""
