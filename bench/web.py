"""Server-side render time of the web UI's pages on the demo corpus.

    python bench/web.py [--store DIR] [--rounds 20]

The store: the demo corpus loaded with ``synth demo`` and themes fitted with ``synth topics fit``
(the real pipeline and models), in ``--store`` (built there when it has no ``synth.db`` yet:
about three minutes here). Pages are requested in process through the ASGI app with a
network-scoped key's signed-in session, so each time is the server's whole work for the page
(session check, rate limiter, queries, search, summary, template) without a network hop.
After one warm-up pass, every page is requested ``--rounds`` times. Target: p95 <= 200 ms for
the search and theme pages.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# bench/api.py would shadow the ``api`` package when this file is run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.settings import Settings
from models import Entry, Network
from synth.engine import build_engine
from synth.search.query import Viewer
from synth.services.entries import visible_clause
from synth.services.keys import create_key
from synth.services.themes import ThemeScope, list_themes

ROOT = Path(__file__).resolve().parent.parent
QUERIES = (
    "safety huddles to reduce falls",
    "video consultations with care homes",
    "peer support for newly qualified midwives",
    "sepsis screening in the emergency department",
    "reducing missed appointments",
)


def build_store(store: Path) -> dict[str, str]:
    """Load the demo and fit themes in ``store`` unless it is there; return the environment."""
    env = {
        **os.environ,
        "SYNTH_DATABASE_URL": f"sqlite:///{store / 'synth.db'}",
        "SYNTH_DATA_DIR": str(store / "var"),
    }
    if not (store / "synth.db").exists():
        synth = str(Path(sys.executable).parent / "synth")
        subprocess.run([synth, "demo"], env=env, check=True, capture_output=True)
        subprocess.run([synth, "topics", "fit"], env=env, check=True, capture_output=True)
    return env


def sign_in(client: TestClient, token: str) -> None:
    """Start a signed-in session."""
    form = client.get("/sign-in").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    response = client.post(
        "/sign-in", data={"key": token, "csrf_token": csrf.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303


def time_pages(
    client: TestClient, urls: dict[str, list[str]], rounds: int
) -> dict[str, list[float]]:
    """Milliseconds per request for each page kind (after one warm-up pass)."""
    for group in urls.values():
        for url in group:
            assert client.get(url).status_code == 200, url
    out: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, group in urls.items():
            for url in group:
                start = time.perf_counter()
                response = client.get(url)
                out[name].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, url
    return out


def main() -> None:
    """Build or reuse the demo store, sign in with a network key, time the pages."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    store = args.store or Path(tempfile.mkdtemp(prefix="synth-web-bench-"))
    store.mkdir(parents=True, exist_ok=True)
    env = build_store(store)
    settings = Settings(
        database_url=env["SYNTH_DATABASE_URL"], data_dir=Path(env["SYNTH_DATA_DIR"])
    )
    engine = build_engine(settings.engine_config())
    with engine.sessions.begin() as session:
        networks = list(session.scalars(select(Network.slug).order_by(Network.slug)))[:2]
        _, token = create_key(session, name="bench-web", scopes=["write"], networks=networks)
        viewer = Viewer(networks=frozenset(networks))
        themes = [
            v.theme_id
            for v in list_themes(session, ThemeScope(viewer=viewer), engine.config.themes)[:5]
        ]
        visible = visible_clause(viewer)
        assert visible is not None
        entries = list(session.scalars(select(Entry.id).where(visible).order_by(Entry.id)))[::40]
    engine.close()
    urls = {
        "search /?q=": [f"/?q={q.replace(' ', '+')}" for q in QUERIES],
        "search + filters": [
            f"/?q={q.replace(' ', '+')}&outside=1&since=2025-01-01" for q in QUERIES
        ],
        "theme /themes/{id}": [f"/themes/{t}" for t in themes],
        "themes /themes": ["/themes"],
        "entry /entries/{id}": [f"/entries/{i}" for i in entries[:5]],
        "map /map": ["/map"],
    }
    with TestClient(create_app(settings)) as client:
        sign_in(client, token)
        timings = time_pages(client, urls, args.rounds)
    print(f"store {store}; key reads {', '.join(networks)}; {args.rounds} rounds after a warm-up")
    print(f"{'page':<22}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for name, values in timings.items():
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(
            f"{name:<22}{len(values):>5}{statistics.median(values):>9.1f}{p95:>9.1f}{values[-1]:>9.1f}"
        )


if __name__ == "__main__":
    main()
