"""Where chat input enters: the command grammar, parsed once, then calls into bot/."""
