"""Front ends over the shared core: the Discord bot and the local console."""
