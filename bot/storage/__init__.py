"""Everything that knows a Redis key or a Lua script: the store, keys, codec, the conversation
lock, limits, the event hub, the client and the embedded server with its supervisor."""
