"""Contribute: CSRF on every form, a redaction preview that stores nothing, hostile text escaped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from models import Entry
from tests.api.stack import Stack, hashing_engine
from tests.web.site import csrf_of, page, running_site, sign_in


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_site(tmp_path_factory.mktemp("web-contribute")) as running:
        yield running


def _count(site: Stack) -> int:
    engine = hashing_engine(site.settings.engine_config())
    with engine.sessions() as session:
        n = int(session.scalar(select(func.count()).select_from(Entry)) or 0)
    engine.close()
    return n


def _form(site: Stack, **fields: str) -> dict[str, str]:
    token = csrf_of(page(site.client, "/contribute").text)
    return {
        "csrf_token": token,
        "kind": "reflection",
        "title": "Tea round huddles",
        "network": "net-b",
        "organisation": "org-b1",
        "visibility": "network",
        "occurred_on": "2026-03-01",
        "what": "We moved the safety huddle to the tea round.",
        "so_what": "More of the night staff could come; call Ann on 07700 900123.",
        "now_what": "Try it on the second ward next month.",
        **fields,
    }


def test_posts_without_the_csrf_token_are_refused(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    before = _count(site)
    for token in ("", "forged-token"):
        data = {**_form(site, action="save"), "csrf_token": token}
        response = site.client.post("/contribute", data=data, follow_redirects=False)
        assert response.status_code == 403, token
    assert site.client.post("/sign-out", data={}, follow_redirects=False).status_code == 403
    sign_in(site.client, None)
    refused = site.client.post("/sign-in", data={"key": site.keys["writer"]})
    assert refused.status_code == 403
    assert _count(site) == before


def test_a_session_token_does_not_work_in_another_session(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    stolen = csrf_of(page(site.client, "/contribute").text)
    sign_in(site.client, site.keys["writer"])
    data = {**_form(site, action="save"), "csrf_token": stolen}
    assert site.client.post("/contribute", data=data).status_code == 403


def test_preview_shows_what_redaction_removes_and_stores_nothing(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    before = _count(site)
    response = site.client.post("/contribute", data=_form(site, action="preview"))
    assert response.status_code == 200
    assert '<del class="redacted">07700 900123</del> <ins>[PHONE]</ins>' in response.text
    assert _count(site) == before


def test_save_then_others_who_tried_something_similar_and_findable(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    response = site.client.post(
        "/contribute", data=_form(site, action="save"), follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/entries/") and location.endswith("?saved=1")
    entry = page(site.client, location).text
    assert "Others who tried something similar" in entry and "Thank you" in entry
    assert "07700 900123" not in entry and "[PHONE]" in entry
    assert "What?" in entry and "Now what?" in entry
    results = page(site.client, "/?q=tea+round+huddle").text
    assert f'href="{location.split("?")[0]}"' in results


def test_hostile_text_is_escaped_everywhere(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    data = _form(site, action="save", title=f"Hostile {attack}", what=f"Plan {attack} done")
    response = site.client.post("/contribute", data=data, follow_redirects=False)
    assert response.status_code == 303
    entry_url = response.headers["location"]
    for url in (entry_url, "/?q=hostile+plan+done", "/contribute"):
        text = page(site.client, url).text
        assert "<script>alert" not in text and "<img src=x" not in text, url
    assert "&lt;script&gt;alert(" in page(site.client, entry_url).text
    preview = site.client.post("/contribute", data={**data, "action": "preview"}).text
    assert "<script>alert" not in preview and "&lt;script&gt;" in preview


def test_a_writer_cannot_contribute_to_another_network(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    before = _count(site)
    data = _form(site, action="save", network="net-a", organisation="org-a1")
    response = site.client.post("/contribute", data=data)
    assert response.status_code == 422 and 'role="alert"' in response.text
    assert _count(site) == before


def test_missing_title_is_reported_on_the_form(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    response = site.client.post("/contribute", data=_form(site, action="save", title=""))
    assert response.status_code == 422 and "Title" in response.text
