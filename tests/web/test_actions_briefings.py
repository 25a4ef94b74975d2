"""Actions on the theme page (add, update, visibility, CSRF) and the briefing pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.web.pages_briefings import PACK_CSP
from tests.api.stack import Stack
from tests.web.site import csrf_of, page, running_site, sign_in


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_site(tmp_path_factory.mktemp("web-actions")) as running:
        yield running


def _theme(site: Stack) -> str:
    return f"/themes/{site.extra['theme']}"


def _add(site: Stack, what: str, **extra: str) -> int:
    token = csrf_of(page(site.client, _theme(site)).text)
    data = {
        "csrf_token": token, "what": what, "owner": "Ward manager", "agreed_at": "Spring event",
        "agreed_on": "2026-03-01", "due_on": "2026-06-01", "network": "net-b", "status": "open",
        **extra,
    }  # fmt: skip
    response = site.client.post(f"{_theme(site)}/actions", data=data, follow_redirects=False)
    return response.status_code


def test_a_writer_records_and_updates_an_action(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    assert "Record an action" in page(site.client, _theme(site)).text
    assert _add(site, "Try tea-round huddles on ward 9") == 303
    text = page(site.client, _theme(site)).text
    assert "Try tea-round huddles on ward 9" in text and "Ward manager" in text
    action_id = text.split('action="/actions/')[1].split('"')[0]
    token = csrf_of(text)
    response = site.client.post(
        f"/actions/{action_id}",
        data={"csrf_token": token, "theme_id": site.extra["theme"], "status": "done",
              "outcome": "Falls fell on ward 9"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"].endswith("#actions")
    assert "Falls fell on ward 9" in page(site.client, _theme(site)).text


def test_actions_follow_network_visibility_and_need_write(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    assert _add(site, "Only net-b sees this plan") == 303
    sign_in(site.client, site.keys["reader"])
    text = page(site.client, _theme(site)).text
    assert "Only net-b sees this plan" not in text and "Record an action" not in text
    refused = site.client.post(
        f"{_theme(site)}/actions",
        data={"csrf_token": csrf_of(text), "what": "x", "owner": "y", "agreed_at": "z"},
        follow_redirects=False,
    )
    assert refused.status_code == 303 and refused.headers["location"].startswith("/sign-in")


def test_action_forms_need_the_csrf_token_and_valid_values(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    assert _add(site, "No token", csrf_token="") == 403
    assert _add(site, "Elsewhere", network="net-a") == 422
    assert _add(site, "Bad date", due_on="soon") == 422
    assert "No token" not in page(site.client, _theme(site)).text


def test_briefing_form_and_pack(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    form = page(site.client, "/briefings/new")
    assert form.status_code == 200 and 'name="network"' in form.text and "Event date" in form.text
    pack = page(site.client, "/briefings/pack?network=net-a&network=net-c&since=2020-01-01")
    assert pack.status_code == 200 and pack.headers["content-security-policy"] == PACK_CSP
    assert "<script" not in pack.text
    markdown = page(site.client, "/briefings/pack?network=net-a&format=markdown")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "attachment" in markdown.headers["content-disposition"]


def test_briefing_errors_show_on_the_form(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    none = page(site.client, "/briefings/pack?since=2020-01-01")
    assert none.status_code == 422 and "choose at least one network" in none.text
    bad = page(site.client, "/briefings/pack?network=net-a&event_date=tomorrow")
    assert bad.status_code == 422 and "is not a date" in bad.text
    unknown = page(site.client, "/briefings/pack?network=no-such-net")
    assert unknown.status_code == 422 and 'role="alert"' in unknown.text


def test_a_briefing_never_shows_hidden_entries(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    text = page(site.client, "/briefings/pack?network=net-a&network=net-b&network=net-c").text
    text += page(site.client, "/briefings/pack?network=net-a&format=markdown").text
    for marker in ("axolotlium", "narwhalix", "quokkaflux"):
        assert marker not in text.lower()
