"""The chat interface: platform-neutral messages, and adapters that render and deliver them."""
