"""The status page in a real headless Chromium, driven over the DevTools protocol, phone and desk."""

# CI installs Debian's `chromium` (.ci/run). Set STATUSBOT_SCREENSHOT_DIR to keep the screenshots.

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.incidents.models import IncidentStatus
from bot.statements.service import window_key
from bot.statements.store import maintenance_subject
from bot.statuspage.public import UPTIME_DAYS
from bot.store.memory_kv import MemoryKeyValue
from tests.statuspage.conftest import INTERNAL_NOTE, INTERNAL_TITLE, Site, serve
from tests.support.browser import browser

PHONE = (390, 844)
DESK = (1280, 900)

# Runs in the browser against the rendered page (the page itself has no script).
FACTS = """
(() => {
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const [r, g, b, a] = rgb(getComputedStyle(el).backgroundColor);
      if (a === undefined || a > 0) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map((v) => v / 255).map(
      (v) => (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const contrast = (el) => {
    const [hi, lo] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))]
      .sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
  };
  const texts = [...document.querySelectorAll(
    "h1, h2, h3, .status, .update-meta, .update-body p, .incident-status, .bars-legend span, " +
    ".site-footer p, nav a, .affects")].filter((el) => el.innerText.trim());
  const skip = document.querySelector(".skip-link");
  return {
    lang: document.documentElement.lang,
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    scripts: document.scripts.length,
    headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
      .map((h) => [Number(h.tagName[1]), h.innerText.trim()]),
    landmarks: ["header", "main", "footer", "nav"]
      .map((tag) => [tag, document.querySelectorAll(tag).length]),
    components: [...document.querySelectorAll(".component")].map((c) => ({
      name: c.querySelector("h3").innerText.trim(),
      status: c.querySelector(".status").innerText.trim(),
      bars: c.querySelectorAll(".bar").length,
      narrowest: Math.min(...[...c.querySelectorAll(".bar")]
        .map((b) => b.getBoundingClientRect().width)),
      right: c.querySelector(".bars").getBoundingClientRect().right,
      uptime: c.querySelector(".uptime").innerText.trim(),
    })),
    updates: [...document.querySelectorAll("#main article")].map((a) => ({
      id: a.id,
      name: a.querySelector("h3").innerText.trim(),
      updates: [...a.querySelectorAll(".update")].map((u) => u.innerText.trim()),
    })),
    languages: [...document.querySelectorAll("nav.languages a")].map((a) => ({
      href: a.href, text: a.innerText.trim(), current: a.getAttribute("aria-current"),
      height: a.getBoundingClientRect().height,
    })),
    skipHidden: skip.getBoundingClientRect().bottom <= 0,
    bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
    worstContrast: Math.min(...texts.map(contrast)),
    lowContrast: texts.filter((el) => contrast(el) < 4.5).map((el) => el.outerHTML.slice(0, 80)),
    text: document.body.innerText,
  };
})()
"""


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def save(shots: dict[str, bytes], directory: Path) -> None:
    for name, png in shots.items():
        (directory / name).write_bytes(png)


@pytest.fixture
async def busy_site(memory_kv: MemoryKeyValue) -> AsyncIterator[Site]:
    """A page with something in every section: an active incident with two updates, a past
    one, a maintenance notice and 90 days of uptime with a few bad days."""
    async with serve(memory_kv) as site:
        past = await site.open_incident(
            title="pool exhaustion on app-api", severity=3, components=["app"]
        )
        await site.approve(f"incident:{past}")
        await site.runtime.incidents.resolve(past, "U0ENG1", "pool resized")
        await site.approve(f"incident:{past}", approver="U0COMMS1")

        active = await site.open_incident(severity=1, components=["web"])
        await site.runtime.incidents.update(active, "U0ENG1", INTERNAL_NOTE)
        await site.approve(f"incident:{active}")
        await site.runtime.incidents.change_status(active, "U0ENG1", IncidentStatus.IDENTIFIED)
        await site.approve(f"incident:{active}", approver="U0COMMS1")

        await site.runtime.statements.draft_due_maintenance(site.runtime.clock())
        [window] = site.runtime.config.maintenance
        await site.approve(maintenance_subject(window_key(window)), approver="U0COMMS1")

        await site.record_history("web", days=UPTIME_DAYS, bad_days={0: 12, 9: 2, 40: 20})
        await site.record_history("app", days=45, bad_days={1: 1})
        yield site


@pytest.mark.timeout(60)
async def test_the_page_renders_in_chromium_on_a_phone_and_a_desk(
    busy_site: Site, tmp_path: Path
) -> None:
    keep = os.environ.get("STATUSBOT_SCREENSHOT_DIR")
    async with browser(tmp_path / "profile") as tools:
        phone = await tools.open(busy_site.url("/"), PHONE, mobile=True, facts=FACTS)

        # The viewport meta works: a phone lays the page out at its own width, nothing overflows.
        assert phone["innerWidth"] == PHONE[0]
        assert phone["scrollWidth"] <= PHONE[0], "the page scrolls sideways on a phone"
        assert phone["bodyFont"] >= 16
        assert phone["scripts"] == 0
        assert phone["lang"] == "en"
        assert dict(phone["landmarks"]) == {"header": 1, "main": 1, "footer": 1, "nav": 1}
        levels = [level for level, _ in phone["headings"]]
        assert levels[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(levels))
        assert [text for level, text in phone["headings"] if level == 2] == [
            "✕ Major outage",
            "Active incidents",
            "Maintenance",
            "Components",
            "Past incidents (last 14 days)",
        ]
        assert phone["worstContrast"] >= 4.5, phone["lowContrast"]

        web, app = phone["components"]
        assert (web["name"], web["status"]) == ("online account services", "✕ Major outage")
        assert (app["name"], app["status"]) == ("mobile app", "✓ Operational")
        for component in (web, app):
            assert component["bars"] == UPTIME_DAYS
            assert component["narrowest"] >= 1.5, "uptime bars too thin to see on a phone"
            assert component["right"] <= PHONE[0]
        assert web["uptime"] == "98.11% uptime over the last 90 days"  # 34 of 1800 runs failed

        active, maintenance, past = phone["updates"]
        assert active["name"] == "Disruption to our online account services"
        assert len(active["updates"]) == 2  # newest first
        assert active["updates"][0].startswith("Identified")
        assert active["updates"][1].startswith("Investigating")
        assert maintenance["name"] == "Planned maintenance of our mobile app"
        assert past["name"] == "Disruption to our mobile app"
        assert INTERNAL_TITLE not in phone["text"] and INTERNAL_NOTE not in phone["text"]
        assert "pool exhaustion" not in phone["text"] and "pool resized" not in phone["text"]

        origin = busy_site.url("/")
        assert [(a["href"], a["text"], a["current"]) for a in phone["languages"]] == [
            (f"{origin}?lang=en", "English", "page"),
            (f"{origin}?lang=it", "Italiano", None),
        ]
        assert all(a["height"] >= 44 for a in phone["languages"]), "tap targets under 44 px"

        shot = await tools.screenshot()
        assert png_size(shot) == PHONE
        shots = {"phone.png": shot}
        if keep:
            shots["phone-full.png"] = await tools.screenshot(full_page=True)

        # Keyboard users meet the skip link first; it shows itself when focused.
        assert phone["skipHidden"]
        await tools.press_tab()
        focused = await tools.evaluate(
            "[document.activeElement.className,"
            " document.activeElement.getBoundingClientRect().top >= 0]"
        )
        assert focused == ["skip-link", True]

        desk = await tools.open(busy_site.url("/?lang=it"), DESK, mobile=False, facts=FACTS)
        assert desk["lang"] == "it"
        assert desk["scrollWidth"] <= DESK[0]
        assert desk["headings"][0] == [1, "Stato dei servizi"]
        assert [c["name"] for c in desk["components"]] == ["servizi online del conto", "app mobile"]
        assert desk["updates"][0]["name"] == "Disservizio: servizi online del conto"
        assert desk["updates"][0]["updates"][0].startswith("Causa individuata")
        assert [a["current"] for a in desk["languages"]] == [None, "page"]
        shot = await tools.screenshot()
        assert png_size(shot) == DESK
        shots["desk.png"] = shot
        if keep:
            shots["desk-full.png"] = await tools.screenshot(full_page=True)
    save(shots, Path(keep) if keep else tmp_path)
