"""The public status page, its summary.json and Atom feed: approved statements only."""

from bot.statuspage.public import StatusPage
from bot.statuspage.routes import add_status_page_routes

__all__ = ["StatusPage", "add_status_page_routes"]
