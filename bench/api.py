"""HTTP load run: 20 concurrent clients searching through uvicorn on loopback, with an API key.

    python bench/api.py [--passages 20000] [--clients 20] [--duration 30] [--demo-files 8]

The store: the demo corpus ingested through the real pipeline (real all-MiniLM-L6-v2, name
redaction off to save time), then padded to ``--passages`` with *synthetic* entries made by
recombining 3–6 random demo sentences. A synthetic passage's vector is the normalised mean of
its sentences' real MiniLM vectors (each distinct sentence is embedded once) instead of an
embedding of the recombined text — that keeps set-up to minutes; the search path under test
is the real one: bearer-key lookup, rate limiter, visibility filter, query embedding, FAISS,
BM25, fusion, highlighting and hydration from SQLite. The synthetic entries are spread over
the demo networks and visibilities, and the key reads one network (so filters apply).

Clients are closed-loop (each sends its next query when the last answer arrives) for
``--duration`` seconds after a warm-up; latency is measured at the client. Targets: search
p50 <= 25 ms, p99 <= 100 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import httpx
import numpy as np
from sqlalchemy import func, insert, select

from corpus import iter_records
from corpus.demo_data import demo_entry_files, load_demo_registry
from models import Entry, Network, Organisation, Passage
from synth.config import EngineConfig, RedactionConfig
from synth.engine import Engine, build_engine
from synth.services.directory import load_directory
from synth.services.ingest import ingest_records
from synth.services.keys import create_key
from synth.store import migrate

ROOT = Path(__file__).resolve().parent.parent
NO_NER = RedactionConfig(kinds=frozenset(k for k in RedactionConfig().kinds if k.value != "person"))
VISIBILITIES = ("public", "network", "network", "private")


def load_demo(engine: Engine, files: int) -> list[str]:
    """Ingest the demo corpus; return its entry titles (used as queries)."""
    registry = load_demo_registry()
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=registry.networks,
            organisations=registry.organisations,
            projects=registry.projects,
            memberships=registry.memberships,
        )
    records = [
        r for f in demo_entry_files()[:files] for r in iter_records(f) if hasattr(r, "title")
    ]
    ingest_records(engine, records, update_indexes=False)
    return [r.title for r in records]  # type: ignore[union-attr]


def pad(engine: Engine, target: int, seed: int = 7) -> int:
    """Add synthetic one-passage entries until the store holds ``target`` passages."""
    rng = random.Random(seed)
    with engine.sessions() as session:
        have = int(session.scalar(select(func.count()).select_from(Passage)) or 0)
        bodies = list(session.scalars(select(Entry.body)))
        titles = list(session.scalars(select(Entry.title)))
        networks = list(session.scalars(select(Network.id)))
        orgs = list(session.scalars(select(Organisation.id)))
        last = int(session.scalar(select(func.max(Entry.id))) or 0)
    missing = target - have
    if missing <= 0:
        return have
    spans = engine.splitter.split(bodies)
    sentences = sorted({b[s:e].strip() for b, sp in zip(bodies, spans, strict=True) for s, e in sp})
    sentences = [s for s in sentences if len(s.split()) >= 5]
    vectors = engine.embedder.encode(sentences)
    entries, passages = [], []
    for i in range(missing):
        picks = rng.sample(range(len(sentences)), rng.randint(3, 6))
        body = " ".join(sentences[p] for p in picks)
        vector = vectors[picks].mean(axis=0)
        vector = (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype("<f4")
        entry_id = last + 1 + i
        entries.append(
            {
                "id": entry_id,
                "kind": "insight",
                "title": f"{rng.choice(titles)} ({i})",
                "body": body,
                "fields": {},
                "network_id": rng.choice(networks),
                "organisation_id": rng.choice(orgs),
                "visibility": rng.choice(VISIBILITIES),
                "content_hash": f"synthetic-{i}",
                "redactions": {},
            }
        )
        passages.append(
            {
                "entry_id": entry_id,
                "ordinal": 0,
                "text": body,
                "start": 0,
                "end": len(body),
                "text_hash": f"synthetic-{i}",
                "embedding": vector.tobytes(),
                "embedding_model": engine.embedder.name,
                "embedding_dim": engine.embedder.dim,
            }
        )
    with engine.sessions.begin() as session:
        for start in range(0, missing, 5000):
            session.execute(insert(Entry), entries[start : start + 5000])
            session.execute(insert(Passage), passages[start : start + 5000])
    return target


def build_store(folder: Path, passages: int, files: int) -> tuple[dict[str, str], list[str]]:
    """Create the store, its indexes and a read key; return the server's environment and queries."""
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = build_engine(EngineConfig(database_url=url, data_dir=str(folder), redaction=NO_NER))
    migrate(engine.db)
    queries = load_demo(engine, files)
    total = pad(engine, passages)
    with engine.sessions.begin() as session:
        engine.search_indexes.rebuild(session)
        network = session.scalar(select(Network.slug).order_by(Network.id))
        _, token = create_key(session, name="bench", scopes=["read"], networks=[str(network)])
    engine.close()
    print(f"store: {total} passages; key reads network {network}", file=sys.stderr)
    env = {
        "SYNTH_DATABASE_URL": url,
        "SYNTH_DATA_DIR": str(folder),
        "SYNTH_RATE_LIMIT_PER_MINUTE": "0",
        "SYNTH_REDACTION__KINDS": json.dumps([k.value for k in NO_NER.kinds]),
        "BENCH_KEY": token,
    }
    return env, queries


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start ``synth serve`` and wait for ``/ready``."""
    server_env = {**os.environ, **{k: v for k, v in env.items() if k != "BENCH_KEY"}}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "synth"), "serve", "--port", str(port)],
        env=server_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not become ready")


async def load(
    port: int, token: str, queries: list[str], clients: int, duration: float
) -> dict[str, float]:
    """Run ``clients`` closed-loop searchers for ``duration`` seconds."""
    latencies: list[float] = []
    errors = 0
    cycle = itertools.cycle(queries)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=30
    ) as client:

        async def one(stop: float | None, record: bool) -> None:
            nonlocal errors
            while stop is None or time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    response = await client.get(
                        "/api/v1/search", params={"q": next(cycle), "k": 10}
                    )
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if record:
                    latencies.append(time.perf_counter() - start)
                    errors += not ok
                if stop is None:
                    return

        await asyncio.gather(*(one(None, False) for _ in range(clients)))  # warm-up
        began = time.perf_counter()
        await asyncio.gather(*(one(began + duration, True) for _ in range(clients)))
        elapsed = time.perf_counter() - began
    ms = np.asarray(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
    }


def main() -> None:
    """Build the store, serve it, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--demo-files", type=int, default=8, help="Demo networks to ingest.")
    parser.add_argument("--data-dir", type=Path, help="Reuse/keep the store here.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="synth-bench-api-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    env, queries = build_store(folder, args.passages, args.demo_files)
    print(f"set-up {time.perf_counter() - started:.0f} s", file=sys.stderr)
    port = free_port()
    server = serve(env, port)
    try:
        figures = asyncio.run(load(port, env["BENCH_KEY"], queries, args.clients, args.duration))
    finally:
        server.terminate()
        server.wait(30)
    result = {
        "passages": args.passages,
        "clients": args.clients,
        "duration_s": args.duration,
        **figures,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
