"""omnibot's core: models, contracts, storage, dispatching and the bot/human hand-off."""
