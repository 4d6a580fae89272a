"""The public status page, its summary.json and Atom feed: approved statements only."""

from bot.statuspage.public import StatusPage
from bot.statuspage.routes import add_status_page_routes
from bot.statuspage.snapshot import PublicFiles

__all__ = ["PublicFiles", "StatusPage", "add_status_page_routes"]
