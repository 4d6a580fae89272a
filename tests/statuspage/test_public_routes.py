"""The status page, summary.json and Atom feed over real HTTP: approved statements only."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree as ET

from bot.incidents.models import IncidentStatus
from bot.statements.service import window_key
from bot.statements.store import maintenance_subject
from bot.statuspage.page import BACKGROUND, PAGE_TEXT, PANEL, TEXT_COLOURS
from bot.statuspage.public import UPTIME_DAYS
from bot.store.keyvalue import KeyValue
from tests.statuspage.conftest import (
    FEEDS,
    INTERNAL_NOTE,
    INTERNAL_TITLE,
    PAGES,
    PUBLIC_URL,
    Site,
    serve,
)

ATOM = "{http://www.w3.org/2005/Atom}"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
UPDATE_KEYS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
}


class Outline(HTMLParser):
    """What an HTML document is made of: tags in order, headings, links, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[int, str]] = []
        self.text: list[str] = []
        self._heading: list[str] | None = None
        self._level = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._level = [], int(tag[1])

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((self._level, " ".join("".join(self._heading).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def classed(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in (a.get("class") or "").split()]


async def test_an_incident_is_invisible_until_comms_approve_a_statement(site: Site) -> None:
    number = await site.open_incident(severity=2, components=["web"])
    await site.runtime.incidents.update(number, "U0ENG1", INTERNAL_NOTE)
    assert await site.pending(f"incident:{number}")  # drafted, not approved

    summary = await site.json("/api/v2/summary.json")
    assert summary["incidents"] == []
    # Nothing customers were not told about moves a component either.
    assert {c["id"]: c["status"] for c in summary["components"]} == {
        "web": "operational",
        "app": "operational",
    }
    assert summary["status"]["indicator"] == "none"
    page = Outline((await site.get("/")).text)
    assert not page.all("article", id=f"incident-{number}")
    feed = ET.fromstring((await site.get("/feed.atom")).text)
    assert feed.findall(f"{ATOM}entry") == []
    everything = await site.everything()
    assert "Disruption to our online account services" not in everything
    assert INTERNAL_TITLE not in everything and INTERNAL_NOTE not in everything

    await site.approve(f"incident:{number}")

    summary = await site.json("/api/v2/summary.json")
    [incident] = summary["incidents"]
    assert incident["name"] == "Disruption to our online account services"
    assert incident["impact"] == "major"
    assert {c["id"]: c["status"] for c in summary["components"]}["web"] == "partial_outage"
    assert summary["status"]["indicator"] == "major"
    everything = await site.everything()
    assert "Disruption to our online account services" in everything
    assert "Disservizio: servizi online del conto" in everything
    for path in PAGES + FEEDS:
        body = (await site.get(path)).text
        assert INTERNAL_TITLE not in body, path
        assert INTERNAL_NOTE not in body, path
        assert "U0ENG1" not in body and "U0COMMS2" not in body, path


async def test_summary_json_has_statuspage_shape(site: Site) -> None:
    number = await site.open_incident(severity=1, components=["web", "app"])
    first = await site.approve(f"incident:{number}")
    await site.runtime.incidents.change_status(number, "U0ENG1", IncidentStatus.MONITORING)
    second = await site.approve(f"incident:{number}", approver="U0COMMS1")

    response = await site.get("/api/v2/summary.json")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    summary = await site.json("/api/v2/summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(summary["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
    assert summary["page"]["url"] == PUBLIC_URL
    assert summary["page"]["time_zone"] == "Europe/Rome"
    assert ISO_UTC.match(summary["page"]["updated_at"])

    assert [c["id"] for c in summary["components"]] == ["web", "app"]
    assert [c["position"] for c in summary["components"]] == [1, 2]
    for component in summary["components"]:
        assert set(component) == COMPONENT_KEYS
        assert component["status"] in COMPONENT_STATUSES
        assert component["page_id"] == summary["page"]["id"]
    assert summary["components"][0]["name"] == "online account services"
    assert summary["components"][0]["status"] == "major_outage"  # sev1

    [incident] = summary["incidents"]
    assert set(incident) == INCIDENT_KEYS
    assert incident["id"] == f"inc-{number}"
    assert incident["status"] == "monitoring"
    assert incident["impact"] == "critical"
    assert incident["shortlink"] == f"{PUBLIC_URL}/#incident-{number}"
    assert incident["resolved_at"] is None
    assert incident["monitoring_at"] == _iso(second.decided_at)
    assert incident["created_at"] == _iso(first.decided_at)
    assert incident["updated_at"] == _iso(second.decided_at)
    for key in ("created_at", "updated_at", "started_at", "monitoring_at"):
        assert ISO_UTC.match(incident[key]), key
    assert [c["id"] for c in incident["components"]] == ["web", "app"]
    assert [u["id"] for u in incident["incident_updates"]] == [second.id, first.id]  # newest first
    for update in incident["incident_updates"]:
        assert set(update) == UPDATE_KEYS
        assert update["incident_id"] == incident["id"]
        assert ISO_UTC.match(update["display_at"])
    newest, oldest = incident["incident_updates"]
    assert newest["status"] == "monitoring" and oldest["status"] == "investigating"
    assert newest["body"] == second.texts["en"]
    assert oldest["affected_components"][0] == {
        "code": "web",
        "name": "online account services",
        "old_status": "operational",
        "new_status": "major_outage",
    }
    assert summary["status"] == {"indicator": "critical", "description": "Major outage"}

    italian = await site.json("/api/v2/summary.json?lang=it")
    assert italian["incidents"][0]["name"] == "Disservizio: servizi online del conto e app mobile"
    assert italian["incidents"][0]["incident_updates"][0]["body"] == second.texts["it"]
    assert italian["components"][1]["name"] == "app mobile"
    assert italian["status"]["description"] == "Interruzione grave del servizio"
    fallback = await site.json("/api/v2/summary.json?lang=xx")
    assert fallback["incidents"][0]["name"] == incident["name"]


async def test_a_resolved_incident_leaves_summary_json_and_shows_under_past_incidents(
    site: Site,
) -> None:
    number = await site.open_incident(severity=3, components=["app"])
    await site.approve(f"incident:{number}")
    await site.runtime.incidents.resolve(number, "U0ENG1", "fixed the pool size")
    resolved = await site.approve(f"incident:{number}")

    summary = await site.json("/api/v2/summary.json")
    assert summary["incidents"] == []
    assert summary["status"]["indicator"] == "none"
    page = Outline((await site.get("/")).text)
    headings = [text for _, text in page.headings]
    assert "Active incidents" not in headings
    past = headings.index("Past incidents (last 14 days)")
    assert headings[past + 1] == "Disruption to our mobile app"
    text = " ".join(" ".join(page.text).split())
    assert "Resolved" in text
    assert resolved.texts["en"].split("\n\n")[0].split("\n")[0] in text
    assert "fixed the pool size" not in (await site.everything())


async def test_maintenance_shows_its_title_until_a_notice_is_approved(site: Site) -> None:
    headings = Outline((await site.get("/")).text).headings
    assert (2, "Maintenance") in headings and (3, "Planned upgrade") in headings
    assert (await site.json("/api/v2/summary.json"))["scheduled_maintenances"] == []

    await site.runtime.statements.draft_due_maintenance(site.runtime.clock())
    [window] = site.runtime.config.maintenance
    notice = await site.approve(maintenance_subject(window_key(window)), approver="U0COMMS1")

    summary = await site.json("/api/v2/summary.json")
    [maintenance] = summary["scheduled_maintenances"]
    assert set(maintenance) == INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
    assert maintenance["status"] == "scheduled"
    assert maintenance["impact"] == "maintenance"
    assert maintenance["name"] == notice.name["en"] == "Planned maintenance of our mobile app"
    assert maintenance["scheduled_for"] == _iso(site.maintenance_start)
    assert ISO_UTC.match(maintenance["scheduled_until"])
    assert maintenance["incident_updates"][0]["status"] == "scheduled"
    assert maintenance["incident_updates"][0]["body"] == notice.texts["en"]
    assert [c["id"] for c in maintenance["components"]] == ["app"]

    html = (await site.get("/?lang=it")).text
    assert notice.name["it"] in html
    assert notice.texts["it"].split("\n")[0] in html
    assert "Programmata" in html


async def test_the_feed_is_atom_newest_first(site: Site) -> None:
    number = await site.open_incident(severity=2, components=["web"])
    first = await site.approve(f"incident:{number}")
    await site.runtime.incidents.change_status(number, "U0ENG1", IncidentStatus.IDENTIFIED)
    second = await site.approve(f"incident:{number}", approver="U0COMMS1")

    response = await site.get("/feed.atom")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.text)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    for child in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{child}") is not None, child
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "self": f"{PUBLIC_URL}/feed.atom?lang=en",
        "alternate": f"{PUBLIC_URL}/?lang=en",
    }
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == [
        "Disruption to our online account services: Identified",
        "Disruption to our online account services: Investigating",
    ]
    assert entries[0].findtext(f"{ATOM}content") == second.texts["en"]
    assert entries[1].findtext(f"{ATOM}content") == first.texts["en"]
    assert entries[0].find(f"{ATOM}content").get("type") == "text"  # type: ignore[union-attr]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert all(i and i.startswith("urn:uuid:") for i in ids) and len(set(ids)) == 2
    assert entries[0].find(f"{ATOM}link").get("href") == (  # type: ignore[union-attr]
        f"{PUBLIC_URL}/?lang=en#incident-{number}"
    )
    # Ids are stable: the same statement is the same entry on every request.
    again = ET.fromstring((await site.get("/feed.atom")).text)
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == ids

    italian = ET.fromstring((await site.get("/feed.atom?lang=it")).text)
    assert italian.findall(f"{ATOM}entry")[0].findtext(f"{ATOM}title") == (
        "Disservizio: servizi online del conto: Causa individuata"
    )
    unknown = ET.fromstring((await site.get("/feed.atom?lang=zz")).text)
    assert unknown.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


async def test_comms_text_is_escaped_and_split_into_paragraphs(site: Site) -> None:
    number = await site.open_incident(severity=2, components=["web"])
    draft = await site.pending(f"incident:{number}")
    edited = "Fish & <b>chips</b> <script>alert(1)</script>\n\nSecond </p> paragraph ]]> here"
    await site.runtime.statements.edit(draft.id, "U0COMMS1", {"en": edited})
    await site.runtime.statements.approve(draft.id, "U0COMMS2")

    html = (await site.get("/")).text
    assert "<script" not in html and "<b>" not in html
    assert (
        "<p>Fish &amp; &lt;b&gt;chips&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>" in html
    )
    assert "<p>Second &lt;/p&gt; paragraph ]]&gt; here</p>" in html
    feed = ET.fromstring((await site.get("/feed.atom")).text)
    assert feed.find(f"{ATOM}entry/{ATOM}content").text == edited  # type: ignore[union-attr]
    summary = await site.json("/api/v2/summary.json")
    assert summary["incidents"][0]["incident_updates"][0]["body"] == edited


async def test_the_page_is_accessible_html_without_script(site: Site) -> None:
    number = await site.open_incident(severity=2, components=["web"])
    statement = await site.approve(f"incident:{number}")
    response = await site.get("/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    html = response.text
    assert html.startswith("<!doctype html>")
    page = Outline(html)

    assert page.all("html")[0]["lang"] == "en"
    assert page.all("meta", name="viewport")[0]["content"] == "width=device-width, initial-scale=1"
    assert not page.all("script")
    assert not [k for _, attrs in page.tags for k in attrs if k.startswith("on")]  # no handlers
    # A skip link comes first and leads to the main landmark.
    first_link = page.all("a")[0]
    assert first_link["href"] == "#main" and "skip-link" in (first_link["class"] or "")
    assert page.all("main")[0]["id"] == "main"
    assert page.all("header") and page.all("footer") and len(page.all("main")) == 1
    # Headings start at one and never skip a level.
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and page.headings[0][1] == "Service status"
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert [text for level, text in page.headings if level == 2] == [
        "▲ Partial outage",
        "Active incidents",
        "Maintenance",
        "Components",
        "Past incidents (last 14 days)",
    ]
    # Statuses are words, not only colours.
    status_text = [" ".join(t.split()) for t in page.text if t.strip()]
    assert "Partial outage" in status_text and "Operational" in status_text
    # The incident: its public name, its approved update, paragraph by paragraph.
    assert page.all("article", id=f"incident-{number}")
    assert "Disruption to our online account services" in [t for _, t in page.headings]
    text = " ".join(" ".join(page.text).split())
    for paragraph in statement.texts["en"].split("\n\n"):
        assert " ".join(paragraph.split()) in text
    # Each component: 90 daily bars, each labelled in text.
    bars = page.classed("bar")
    assert len(bars) == UPTIME_DAYS * 2
    assert all(
        re.match(r"^\d{1,2} \w{3} \d{4}: (no data|[\d.]+% uptime)$", b["title"] or "") for b in bars
    )
    # The language switch links every configured language; the current one is marked.
    switch = [a for a in page.all("a") if (a.get("href") or "").startswith("?lang=")]
    assert [(a["href"], a.get("aria-current")) for a in switch] == [
        ("?lang=en", "page"),
        ("?lang=it", None),
    ]
    assert page.all("link", rel="alternate", type="application/atom+xml")


async def test_the_page_speaks_italian_and_falls_back_for_unknown_languages(site: Site) -> None:
    number = await site.open_incident(severity=2, components=["web"])
    statement = await site.approve(f"incident:{number}")

    italian = await site.get("/?lang=it")
    assert italian.headers["Content-Language"] == "it"
    page = Outline(italian.text)
    assert page.all("html")[0]["lang"] == "it"
    headings = [t for _, t in page.headings]
    assert headings[:3] == [
        "Stato dei servizi",
        "▲ Interruzione parziale del servizio",
        "Incidenti in corso",
    ]
    assert "Disservizio: servizi online del conto" in headings
    assert "servizi online del conto" in headings and "app mobile" in headings
    text = " ".join(" ".join(page.text).split())
    assert " ".join(statement.texts["it"].split("\n\n")[0].split()) in text
    assert "Analisi in corso" in text and "Interruzione parziale" in text
    assert statement.texts["en"].split("\n")[0] not in text

    for odd in ("xx", "", "EN", "../it", "it%00"):
        response = await site.get(f"/?lang={odd}")
        assert response.status == 200, odd
        expected = "en"
        assert Outline(response.text).all("html")[0]["lang"] == expected, odd


async def test_uptime_bars_show_each_day_and_the_90_day_figure(site: Site) -> None:
    await site.record_history("web", days=30, bad_days={0: 5, 3: 20})
    page = Outline((await site.get("/")).text)
    bars = [b["title"] or "" for b in page.classed("bar")][:UPTIME_DAYS]  # web's
    assert bars[-1].endswith(": 75% uptime")  # today: 15 of 20
    assert bars[-4].endswith(": 0% uptime")
    assert bars[-2].endswith(": 100% uptime")
    assert bars[0].endswith(": no data")
    levels = [c for b in page.classed("bar")[:UPTIME_DAYS] for c in (b["class"] or "").split()]
    assert "bar--major" in levels and "bar--ok" in levels and "bar--none" in levels
    text = " ".join(" ".join(page.text).split())
    # 600 runs over 30 days, 25 failed: 95.83% (rounded down, never up to a better figure).
    assert "95.83% uptime over the last 90 days" in text
    assert "No uptime data for the last 90 days" in text  # app has none
    italian = " ".join(" ".join(Outline((await site.get("/?lang=it")).text).text).split())
    assert "Disponibilità del 95,83% negli ultimi 90 giorni" in italian


async def test_every_route_reads_the_store_a_bounded_number_of_times(kv: KeyValue) -> None:
    """The public files are rendered once per change, all of them together, and served from
    memory: answers between changes read nothing. A render's reads follow what is shown, not
    how much history there is (90 days of roll-ups cost one batched read per component)."""
    counting = CountingKeyValue(kv)
    async with serve(counting) as site:
        number = await site.open_incident(severity=2, components=["web"])
        await site.approve(f"incident:{number}")
        render = await _reads(site, counting, "/")
        for path in PAGES + FEEDS:
            assert await _reads(site, counting, path) == [], path
        await site.record_history("web", days=20, bad_days={1: 3})
        await site.record_history("app", days=20, bad_days={})
        site.runtime.public.changed()
        again = await _reads(site, counting, "/?lang=it")
        assert again == render, "more history, no more reads"
        languages = len(site.runtime.config.languages)
        assert len(render) <= 20 * languages
        assert render.count("hgetall_many") == 2 * languages  # a batch per component, per page
        assert not {"set", "hset", "rpush", "zadd", "incr", "hincrby"} & set(render)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    for status, colour in TEXT_COLOURS.items():
        for background in (BACKGROUND, PANEL):
            assert _contrast(colour, background) >= 4.5, (status, background)
        assert _contrast(colour, "#ffffff") >= 4.5  # white banner text on it
    assert _contrast(PAGE_TEXT, BACKGROUND) >= 7


class CountingKeyValue:
    """The store, with a log of the calls made to it: a wrapper at its interface, not a patch."""

    def __init__(self, inner: KeyValue) -> None:
        self._inner = inner
        self.name = inner.name
        self.where = inner.where
        self.calls: list[str] = []

    def atomic(self) -> Any:
        return self._inner.atomic()

    def __getattr__(self, attr: str) -> Any:
        method = getattr(self._inner, attr)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(attr)
            return await method(*args, **kwargs)

        return counted


async def _reads(site: Site, counting: CountingKeyValue, path: str) -> list[str]:
    counting.calls.clear()
    response = await site.get(path)
    assert response.status == 200, path
    return list(counting.calls)


def _iso(at: datetime | None) -> str:
    assert at is not None
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
