"""axe-core on every page: no serious or critical accessibility violations.

axe is injected as a script, which the pages' CSP forbids, so this context bypasses CSP (the
pages themselves are tested with it on elsewhere).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Live

pytestmark = pytest.mark.slow

BLOCKING = {"serious", "critical"}


def _pages(live: Live) -> list[tuple[str, str]]:
    return [
        ("search", "/"),
        ("search-results", "/?q=falls+huddles&since=2020-01-01"),
        ("entry", f"/entries/{live.ids['network_a']}"),
        ("themes", "/themes"),
        ("theme", f"/themes/{live.extra['theme']}"),
        ("map", "/map"),
        ("measure", f"/measures/{live.extra['measure']}"),
        ("contribute", "/contribute"),
        ("briefing-form", "/briefings/new"),
        ("briefing-pack", "/briefings/pack?network=net-a&network=net-c&since=2020-01-01"),
        ("not-found", "/entries/999999"),
    ]


def _violations(page: Any, axe_source: str) -> list[str]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v.get("impact") in BLOCKING
    ]


def test_no_serious_or_critical_violations_on_any_page(
    chromium: Any, live: Live, axe_source: str
) -> None:
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live.url}/sign-in")
    found = {"sign-in": _violations(page, axe_source)}
    page.fill("#key", live.keys["admin"])
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{live.url}/")
    for name, path in _pages(live):
        page.goto(f"{live.url}{path}")
        found[name] = _violations(page, axe_source)
    page.goto(f"{live.url}/contribute")
    page.fill("#c-title", "Preview check")
    page.fill("#c-what", "Call 07700 900123 about it.")
    page.get_by_role("button", name="Preview redaction").click()
    page.wait_for_selector("#preview-h")
    found["contribute-preview"] = _violations(page, axe_source)
    context.close()
    assert {name: issues for name, issues in found.items() if issues} == {}
