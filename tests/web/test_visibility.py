"""Pages show each key only what the API would: hidden entries' marker words never appear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synth.services.keys import revoke_key
from tests.api.stack import ENTRIES, SEES, Stack, hashing_engine
from tests.web.site import page, running_site, sign_in

WHO = ("reader", "writer", "admin", "anonymous")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_site(tmp_path_factory.mktemp("web-visibility")) as running:
        yield running


def _markers(names: set[str]) -> set[str]:
    return {ENTRIES[n][3] for n in names}


def _pages(site: Stack) -> list[str]:
    return [
        "/?q=falls+huddles+bed+alarms",
        "/?q=daily+safety+huddles+group+tried",
        "/themes",
        f"/themes/{site.extra['theme']}",
        "/map",
        *(f"/entries/{i}" for i in site.ids.values()),
    ]


@pytest.mark.parametrize("who", WHO)
def test_no_page_shows_a_hidden_entry(site: Stack, who: str) -> None:
    sign_in(site.client, site.keys.get(who))
    hidden = _markers(set(ENTRIES) - SEES[who])
    seen: set[str] = set()
    for url in _pages(site):
        response = page(site.client, url)
        assert response.status_code in (200, 404), (who, url)
        text = response.text.lower()
        leaked = {m for m in hidden if m in text}
        assert not leaked, (who, url, leaked)
        seen |= {m for m in _markers(SEES[who]) if m in text}
    assert seen == _markers(SEES[who]), who  # and everything visible shows somewhere


@pytest.mark.parametrize("who", WHO)
def test_entry_pages_follow_the_visibility_rules(site: Stack, who: str) -> None:
    sign_in(site.client, site.keys.get(who))
    for name, entry_id in site.ids.items():
        status = page(site.client, f"/entries/{entry_id}").status_code
        assert status == (200 if name in SEES[who] else 404), (who, name)


def test_anonymous_reads_only_when_allowed(site: Stack) -> None:
    assert site.settings.allow_anonymous_read
    sign_in(site.client, None)
    response = page(site.client, "/?q=falls")
    assert response.status_code == 200 and "Sign in" in response.text
    assert page(site.client, "/contribute").status_code == 303


def test_a_revoked_key_is_signed_out(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    assert "Signed in as" in page(site.client, "/themes").text
    engine = hashing_engine(site.settings.engine_config())
    with engine.sessions.begin() as session:
        revoke_key(session, site.keys["reader"].split("_")[1])
    engine.close()
    response = page(site.client, "/themes")
    assert response.status_code == 200 and "Signed in as" not in response.text  # anonymous now
    assert "Falls huddles zebracorn" not in page(site.client, "/?q=falls+huddles").text
