"""The small HTML pages the subscription routes answer with: a heading, one line, a way back."""

from __future__ import annotations

from html import escape

from aiohttp import web

from bot.statuspage.strings import Words
from bot.subscribers.texts import MailWords

# Links in these pages carry tokens: never send them on as a referrer, never cache or index.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def answer_page(
    language: str,
    title_key: str,
    text: str,
    public_url: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A page in `language` saying `text` under the heading `title_key` names."""
    words = MailWords(language)
    title = words(title_key)
    site = Words(language)("title")
    back = f"{public_url.rstrip('/')}/?lang={language}"
    html = (
        "<!doctype html>\n"
        f'<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · {escape(site)}</title>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>\n"
        f'<p><a href="{escape(back)}">{escape(words("back"))}</a></p>\n'
        "</main>\n</body>\n</html>\n"
    )
    return web.Response(
        status=status,
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={**_HEADERS, "Content-Language": language, **(headers or {})},
    )
