"""The console: posts printed to a terminal and commands typed at a prompt (no credentials)."""
