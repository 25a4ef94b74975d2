"""What people do in a real browser: search, contribute, read a theme, build a briefing.

Each page visited is saved as a screenshot under test-artifacts/browser/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from tests.browser.conftest import Live

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def as_user(chromium: Any, live: Live) -> Iterator[Any]:
    """A function: a signed-in page for ``who`` (closed after the test)."""
    contexts: list[Any] = []

    def open_page(who: str, **options: Any) -> Any:
        context = chromium.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live.url}/sign-in")
        page.fill("#key", live.keys[who])
        page.click("form.card button[type=submit]")
        page.wait_for_url(f"{live.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_search_open_a_result_and_see_similar_learning(as_user: Any, live: Live) -> None:
    page = as_user("admin")
    page.fill("#q", "bed alarms and hourly rounding")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits li.hit")
    assert page.locator("ol.hits mark").count() > 0
    live.shot(page, "search")
    page.locator("ol.hits li.hit h3 a").first.click()
    page.wait_for_url(re.compile(r"/entries/\d+$"))
    heading = page.get_by_role("heading", name="Similar learning from other networks")
    assert heading.is_visible()
    assert page.locator("section[aria-labelledby=similar-h] li.hit").count() > 0
    live.shot(page, "entry")


def test_contribute_a_reflection_and_find_it(as_user: Any, live: Live) -> None:
    page = as_user("writer")
    page.goto(f"{live.url}/contribute")
    page.check("#kind-reflection")
    page.fill("#c-title", "Pebble jar feedback at handover")
    page.fill("#c-what", "We put a pebble jar by the nurses' station for patient feedback.")
    page.fill("#c-so_what", "Families used it; email sam.jones@example.org for the tally sheet.")
    page.fill("#c-now_what", "Spread the pebble jar to the day unit.")
    page.get_by_role("button", name="Preview redaction").click()
    page.wait_for_selector("#preview-h")
    assert "[EMAIL]" in page.locator("section[aria-labelledby=preview-h]").inner_text()
    live.shot(page, "contribute-preview")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/entries/\d+\?saved=1$"))
    assert page.get_by_role("heading", name="Others who tried something similar").is_visible()
    assert "sam.jones@example.org" not in page.content()
    live.shot(page, "contribute-saved")
    entry_path = page.url.split(live.url)[1].split("?")[0]
    page.goto(f"{live.url}/?q=pebble+jar+feedback")
    assert page.locator(f'ol.hits a[href="{entry_path}"]').count() == 1


def test_open_a_theme_and_follow_a_citation(as_user: Any, live: Live) -> None:
    page = as_user("admin")
    page.goto(f"{live.url}/themes")
    live.shot(page, "themes")
    page.locator("ol.cards h2 a").first.click()
    page.wait_for_url(re.compile(r"/themes/\d+$"))
    assert page.get_by_role("heading", name="Summary").is_visible()
    citations = page.locator("a.cite")
    assert citations.count() >= 1
    live.shot(page, "theme")
    citations.first.click()
    page.wait_for_url(re.compile(r"/entries/\d+$"))


def test_map_hover_text_and_measure_chart(as_user: Any, live: Live) -> None:
    page = as_user("admin")
    page.goto(f"{live.url}/map")
    titles = page.locator("svg.map circle title")
    assert titles.count() >= 5
    assert any("Falls huddles" in text for text in titles.all_text_contents())
    live.shot(page, "map")
    page.goto(f"{live.url}/measures/{live.extra['measure']}")
    image = page.locator("figure img.chart")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    live.shot(page, "measure")


def test_build_a_briefing_pdf_with_pages(as_user: Any, live: Live) -> None:
    page = as_user("admin")
    page.goto(f"{live.url}/briefings/new")
    page.check("#b-net-net-a")
    page.check("#b-net-net-c")
    page.fill("#b-since", "2020-01-01")
    live.shot(page, "briefing-form")
    page.check("#b-fmt-pdf")
    with page.expect_download(timeout=90_000) as download:
        page.get_by_role("button", name="Build the briefing").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    page.goto(f"{live.url}/briefings/new")
    page.check("#b-net-net-a")
    page.get_by_role("button", name="Build the briefing").click()
    page.wait_for_url(re.compile(r"/briefings/pack\?"))
    live.shot(page, "briefing-pack")


def test_keyboard_skip_link_and_phone_layout(as_user: Any, live: Live) -> None:
    page = as_user("admin", viewport=PHONE)
    page.goto(f"{live.url}/?q=falls")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, "the page scrolls sideways on a phone"
    live.shot(page, "search-phone")
    page.goto(f"{live.url}/themes/{live.extra['theme']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    live.shot(page, "theme-phone")
