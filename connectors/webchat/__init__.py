"""The web chat: the WebSocket connector, its frames, socket limits and the widget."""
