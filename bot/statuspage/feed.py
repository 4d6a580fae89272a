"""`/feed.atom`: published statements as an Atom 1.0 feed (RFC 4287), built with ElementTree."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from xml.etree import ElementTree as ET

from bot.statuspage.public import FeedEntry
from bot.statuspage.strings import Words

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml"

# Characters XML 1.0 cannot carry at all, even escaped; edited text could hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ET.register_namespace("", ATOM)


def render_feed(entries: list[FeedEntry], language: str, public_url: str, now: datetime) -> bytes:
    """Entries newest first. Ids are URNs derived from the page URL, the statement and the
    language, so they stay the same across restarts and replicas."""
    words = Words(language)
    page = f"{public_url}/?lang={language}"
    feed = ET.Element(_tag("feed"), {XML_LANG: language})
    _text(feed, "id", _urn(f"{public_url}/feed.atom?lang={language}"))
    _text(feed, "title", words("feed_title"))
    _text(feed, "updated", _time(entries[0].update.published_at if entries else now))
    _link(feed, "self", f"{public_url}/feed.atom?lang={language}", "application/atom+xml")
    _link(feed, "alternate", page, "text/html")
    author = ET.SubElement(feed, _tag("author"))
    _text(author, "name", words("title"))
    _text(author, "uri", public_url)
    for item in entries:
        update = item.update
        entry = ET.SubElement(feed, _tag("entry"))
        if update.language != language:
            entry.set(XML_LANG, update.language)
        _text(entry, "id", _urn(f"{public_url}#statement-{update.id}-{language}"))
        _text(entry, "title", f"{item.name}: {words.incident_status(update.status)}")
        _text(entry, "updated", _time(update.published_at))
        _text(entry, "published", _time(update.published_at))
        _link(entry, "alternate", f"{page}#{item.anchor}", "text/html")
        content = _text(entry, "content", update.body)
        content.set("type", "text")
    xml: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return xml


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    element.text = _NOT_XML.sub("", text)  # ElementTree escapes the rest
    return element


def _link(parent: ET.Element, rel: str, href: str, media_type: str) -> None:
    ET.SubElement(parent, _tag("link"), {"rel": rel, "href": href, "type": media_type})


def _urn(name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def _time(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")
