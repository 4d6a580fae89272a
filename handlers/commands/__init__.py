"""The command layer every platform shares: the grammar, parsed once, and the dispatcher."""
