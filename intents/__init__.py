"""Natural-language understanding and automated answers; knows nothing of channels."""
