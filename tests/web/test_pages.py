"""Every page renders for a signed-in key, sends others to sign in, and keeps the API working."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.web.rendering import WEB_CSP
from tests.api.stack import Stack
from tests.web.site import csrf_of, page, running_site, sign_in


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_site(tmp_path_factory.mktemp("web"), allow_anonymous_read=False) as running:
        yield running


def reading_pages(site: Stack) -> list[str]:
    return [
        "/",
        "/?q=falls+huddles",
        "/?q=falls&network=net-a&kind=story&since=2020-01-01&until=2030-01-01&outside=1",
        f"/entries/{site.ids['network_a']}",
        "/themes",
        f"/themes/{site.extra['theme']}",
        "/map",
        f"/measures/{site.extra['measure']}",
    ]


def test_every_reading_page_renders_for_a_signed_in_reader(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    for url in reading_pages(site):
        response = page(site.client, url)
        assert response.status_code == 200, (url, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1" in response.text and 'lang="en-GB"' in response.text


def test_writing_pages_render_for_a_writer(site: Stack) -> None:
    sign_in(site.client, site.keys["writer"])
    response = page(site.client, "/contribute")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    assert "What?" in response.text and "Now what?" in response.text and "Study" in response.text


def test_without_a_session_every_page_sends_you_to_sign_in(site: Stack) -> None:
    sign_in(site.client, None)
    for url in [*reading_pages(site), "/contribute"]:
        response = page(site.client, url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/sign-in?next=%2F"), url


def test_a_read_key_is_sent_to_sign_in_for_contribute(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    response = page(site.client, "/contribute")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fcontribute"


def test_sign_in_page_and_a_wrong_key(site: Stack) -> None:
    sign_in(site.client, None)
    form = page(site.client, "/sign-in?next=/themes")
    assert form.status_code == 200 and 'value="/themes"' in form.text
    wrong = site.client.post(
        "/sign-in", data={"key": "synth_nope_nope", "csrf_token": csrf_of(form.text)}
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_sign_in_never_redirects_off_site(site: Stack, target: str) -> None:
    sign_in(site.client, None)
    token = csrf_of(page(site.client, "/sign-in").text)
    response = site.client.post(
        "/sign-in",
        data={"key": site.keys["reader"], "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_session_cookie_is_signed_and_http_only(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    cookie = site.client.cookies.get("synth_session")
    assert cookie and site.keys["reader"] not in cookie
    site.client.cookies.clear()
    site.client.cookies.set("synth_session", cookie[:-3] + "xyz")
    assert page(site.client, "/themes").status_code == 303
    sign_in(site.client, None)
    response = site.client.get("/sign-in")
    assert "HttpOnly" in response.headers["set-cookie"]
    assert "SameSite=lax" in response.headers["set-cookie"]


def test_sign_out_ends_the_session(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    themes = page(site.client, "/themes")
    out = site.client.post(
        "/sign-out", data={"csrf_token": csrf_of(themes.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert page(site.client, "/themes").status_code == 303


def test_pages_send_security_headers(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    response = page(site.client, "/themes")
    assert response.headers["content-security-policy"] == WEB_CSP
    assert "unsafe-inline" not in WEB_CSP and "frame-ancestors 'none'" in WEB_CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "<script" not in response.text and " style=" not in response.text
    css = page(site.client, "/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert page(site.client, "/static/../session.py").status_code == 404


def test_errors_on_pages_are_html_and_on_the_api_problem_json(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    missing = page(site.client, "/entries/999999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert page(site.client, "/themes/424242").status_code == 404
    browser = site.client.get("/no-such-page", headers={"Accept": "text/html"})
    assert browser.status_code == 404 and browser.headers["content-type"].startswith("text/html")
    client = site.client.get("/no-such-page")
    assert client.status_code == 404
    assert client.headers["content-type"] == "application/problem+json"
    api = site.call("reader", "GET", "/api/v1/entries/999999")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert site.client.get("/api/v1/search?q=falls").status_code == 401


def test_api_docs_and_probes_still_work(site: Stack) -> None:
    assert site.client.get("/health").status_code == 200
    assert site.client.get("/openapi.json").status_code == 200
    docs = site.client.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers
    assert "/themes" not in site.client.get("/openapi.json").json()["paths"]


def test_measure_chart_is_an_svg_image(site: Stack) -> None:
    sign_in(site.client, site.keys["reader"])
    measure = page(site.client, f"/measures/{site.extra['measure']}")
    assert "Huddles started" in measure.text and "Falls per month" in measure.text
    chart = page(site.client, f"/measures/{site.extra['measure']}/chart.svg")
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert chart.content.lstrip().startswith(b"<?xml") and b"<svg" in chart.content


def test_entry_page_shows_themes_similar_learning_and_measures(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    response = page(site.client, f"/entries/{site.ids['network_a']}")
    text = response.text
    assert "Similar learning from other networks" in text
    assert f'href="/themes/{site.extra["theme"]}"' in text
    assert f'href="/measures/{site.extra["measure"]}"' in text
    assert f'href="/entries/{site.ids["public_c"]}"' in text  # another network's entry


def test_theme_page_has_a_cited_summary_chart_and_entries(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    response = page(site.client, f"/themes/{site.extra['theme']}")
    text = response.text
    assert 'class="cited"' in text and 'class="cite" href="/entries/' in text
    assert "What is working" in text and "Bright spots" in text
    assert "Over time, by network" in text and "Entries (5)" in text


def test_search_highlights_the_matched_passage(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    response = page(site.client, "/?q=bed+alarms")
    assert "tried <mark>bed alarms</mark> and hourly" in response.text
    assert "results" in response.text


def test_bad_filter_values_show_a_message(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    response = page(site.client, "/?q=falls&since=yesterday")
    assert response.status_code == 200 and "is not a date" in response.text
    themes = page(site.client, "/themes?since=nope")
    assert themes.status_code == 200 and "is not a date" in themes.text


def test_map_draws_every_visible_passage(site: Stack) -> None:
    sign_in(site.client, site.keys["admin"])
    text = page(site.client, "/map").text
    assert text.count("<circle") >= 5 + 1  # five passages and the legend's swatches
    assert "Networks × themes" in text
