"""HTTP load run: 20 concurrent clients searching through uvicorn on loopback, with an API key.

    python bench/api.py [--passages 20000] [--clients 20] [--duration 30] [--workers 1]
                        [--rate R] [--query-cache N] [--data-dir DIR] [--json FILE]

The store: the demo corpus ingested through the real pipeline (real all-MiniLM-L6-v2 on the
server's embedding backend, name redaction off to save time), then padded to ``--passages``
with *synthetic* entries made by recombining 3–6 random demo sentences. A synthetic passage's
vector is the normalised mean of its sentences' real vectors (each distinct sentence is
embedded once) instead of an embedding of the recombined text — that keeps set-up to minutes;
the search path under test is the real one: bearer-key lookup, rate limiter, visibility filter,
query embedding, FAISS, BM25, fusion, highlighting and hydration from SQLite. The synthetic
entries are spread over the demo networks and visibilities, and the key reads one network (so
filters apply). ``--data-dir`` keeps the store for the next run.

Queries: every demo title plus ``--snippets`` distinct 3–9-word spans of demo entry bodies,
drawn uniformly with repeats; the share of repeated queries and the server's query-vector cache
hit ratio (from ``/metrics``) are reported, as is the share of empty answers (a store embedded
under another model name than the server's would answer nothing, quickly).

Two modes, after one warm-up request per client: closed loop (default: each client sends its
next query when the last answer arrives, so throughput is saturation and latency includes the
queue), or paced with ``--rate`` (open-loop arrivals: each client sends on a fixed schedule of
``rate / clients`` a second, and latency counts from the scheduled send time). Clients share
the machine with the server, so the client is a minimal HTTP/1.1 keep-alive reader; CPU
seconds per request of both are reported. Targets: search p50 <= 25 ms, p99 <= 100 ms,
0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import httpx
import numpy as np
from sqlalchemy import create_engine, func, insert, select

from corpus import iter_records
from corpus.demo_data import demo_entry_files, load_demo_registry
from models import Entry, Network, Organisation, Passage
from synth.config import EmbeddingConfig, EngineConfig, RedactionConfig
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


def build_store(
    folder: Path, passages: int, files: int, backend: Literal["torch", "onnx-int8"] = "onnx-int8"
) -> tuple[dict[str, str], list[str]]:
    """Create the store, its indexes and a read key; return the server's environment and titles.

    The result is remembered in ``bench.json`` in ``folder``: a second run on the same
    ``--data-dir`` with the same sizes reuses the store instead of building it again.
    """
    saved = folder / "bench.json"
    if saved.exists():
        state = json.loads(saved.read_text(encoding="utf-8"))
        if (state["passages"], state["demo_files"], state["backend"]) == (passages, files, backend):
            print(f"store: reusing {folder}", file=sys.stderr)
            return dict(state["env"]), list(state["titles"])
    url = f"sqlite:///{folder / 'bench.db'}"
    # The server's embedding backend: vectors stored under another model name would leave
    # the server's indexes empty (every search would answer nothing, quickly).
    embedding = EmbeddingConfig(backend=backend, cache_dir=str(folder / "models"))
    engine = build_engine(
        EngineConfig(database_url=url, data_dir=str(folder), embedding=embedding, redaction=NO_NER)
    )
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
        "SYNTH_EMBEDDING_BACKEND": backend,
        "SYNTH_EMBEDDING_CACHE_DIR": str(folder / "models"),
        "SYNTH_RATE_LIMIT_PER_MINUTE": "0",
        "SYNTH_REDACTION__KINDS": json.dumps([k.value for k in NO_NER.kinds]),
        "BENCH_KEY": token,
    }
    state = {
        "passages": passages,
        "demo_files": files,
        "backend": backend,
        "env": env,
        "titles": queries,
    }
    saved.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    return env, queries


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """Start ``synth serve`` and wait for ``/ready``."""
    server_env = {**os.environ, **{k: v for k, v in env.items() if k != "BENCH_KEY"}}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "synth"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=server_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    ready = 0
    while time.monotonic() < deadline and ready < 4 * workers:
        try:  # each new connection may land on another worker: ask until all look ready
            status = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code
            ready = ready + 1 if status == 200 else 0
        except httpx.HTTPError:
            ready = 0
        time.sleep(0.2 if ready else 0.5)
    if ready < 4 * workers:
        process.kill()
        raise SystemExit("the server did not become ready")
    return process


def query_pool(url: str, titles: list[str], snippets: int, seed: int = 11) -> list[str]:
    """Every demo title plus ``snippets`` distinct 3-9-word spans of demo entry bodies."""
    rng = random.Random(seed)
    db = create_engine(url)
    with db.connect() as connection:
        bodies = list(
            connection.scalars(select(Entry.body).where(~Entry.content_hash.like("synthetic-%")))
        )
    db.dispose()
    words = [[w.strip(".,;:()\"'") for w in b.split()] for b in bodies]
    words = [[w for w in ws if w] for ws in words]
    words = [ws for ws in words if len(ws) >= 9]
    pool = dict.fromkeys(titles)
    wanted = len(pool) + snippets
    while len(pool) < wanted:
        ws = rng.choice(words)
        size = rng.randint(3, 9)
        at = rng.randrange(0, len(ws) - size + 1)
        pool.setdefault(" ".join(ws[at : at + size]))
    return list(pool)


class Connection:
    """A minimal HTTP/1.1 keep-alive client for GETs (far cheaper per request than httpx).

    The load generator shares the two cores with the server, so its own cost per request
    shows in the figures; this reads the status line, headers and a Content-Length body.
    """

    def __init__(self, port: int, token: str) -> None:
        self._port = port
        self._head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        """Send ``GET target`` and return the status and body."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        assert self._reader is not None
        self._writer.write(f"GET {target} HTTP/1.1\r\n".encode() + self._head)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = None
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                raise ConnectionError("response without Content-Length")
            return status, await self._reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection (the next request opens another)."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its child processes, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def cache_counters(port: int, workers: int) -> tuple[int, int] | None:
    """Query-vector cache hits and misses summed over the server's processes (from /metrics).

    Each new connection may land on any worker: scrape several times and keep the distinct
    readings (the load has stopped, so each worker's counters no longer move).
    """
    readings: set[tuple[int, int]] = set()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(10 * workers):
            response = await client.get("/metrics", headers={"Connection": "close"})
            values = {}
            for line in response.text.splitlines():
                name, _, value = line.partition(" ")
                if name in ("synth_query_cache_hits_total", "synth_query_cache_misses_total"):
                    values[name] = int(float(value))
            if len(values) == 2:
                readings.add(
                    (
                        values["synth_query_cache_hits_total"],
                        values["synth_query_cache_misses_total"],
                    )
                )
    if not readings:
        return None
    return sum(h for h, _ in readings), sum(m for _, m in readings)


class Tally:
    """Latencies (from the send time, or the scheduled one), errors and empty answers."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.empty = 0

    def add(self, since: float, ok: bool, nothing: bool) -> None:
        """Record one answer that took from ``since`` until now."""
        self.latencies.append(time.perf_counter() - since)
        self.errors += not ok
        self.empty += nothing


async def load(
    port: int,
    token: str,
    stream: list[str],
    *,
    clients: int,
    duration: float,
    rate: float | None,
    server_pid: int,
) -> dict[str, float | int | str]:
    """Run ``clients`` searchers for ``duration`` seconds: closed-loop, or paced at ``rate``.

    Closed loop: each client sends its next query when the last answer arrives (saturation;
    latency then includes the queue). Paced (``rate`` requests/s in all): each client sends
    on a fixed schedule of ``rate / clients`` a second, staggered; latency is measured from
    the *scheduled* send time, so a late answer also charges the requests it delayed.
    """
    tally = Tally()
    queries = iter(stream)
    connections = [Connection(port, token) for _ in range(clients)]

    async def search(connection: Connection) -> tuple[bool, bool]:
        target = "/api/v1/search?" + urlencode({"q": next(queries), "k": 10})
        try:
            status, body = await connection.get(target)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            return False, False
        return status == 200, b'"results":[]' in body

    async def closed(connection: Connection, stop: float) -> None:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            tally.add(start, *await search(connection))

    async def paced(connection: Connection, first: float, interval: float, stop: float) -> None:
        for due in np.arange(first, stop, interval):
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tally.add(float(due), *await search(connection))

    for connection in connections:  # warm-up: one request per connection
        await search(connection)
    cpu_before, own_before = _cpu_seconds(server_pid), time.process_time()
    began = time.perf_counter()
    stop = began + duration
    if rate is None:
        await asyncio.gather(*(closed(c, stop) for c in connections))
    else:
        interval = clients / rate
        await asyncio.gather(
            *(
                paced(c, began + i * interval / clients, interval, stop)
                for i, c in enumerate(connections)
            )
        )
    elapsed = time.perf_counter() - began
    server_cpu = _cpu_seconds(server_pid) - cpu_before
    own_cpu = time.process_time() - own_before
    for connection in connections:
        connection.close()
    ms = np.asarray(tally.latencies) * 1000
    done = len(tally.latencies)
    return {
        "mode": "closed-loop" if rate is None else f"paced {rate:g}/s",
        "requests": done,
        "errors": tally.errors,
        "empty_results": tally.empty,
        "requests_per_s": round(done / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "max_ms": round(float(ms.max()), 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(done, 1), 2),
        "client_cpu_ms_per_request": round(1000 * own_cpu / max(done, 1), 2),
    }


def main() -> None:
    """Build the store, serve it, load it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument(
        "--rate",
        type=float,
        help="Paced (open-loop) mode: this many requests/s in all, spread over the clients "
        "(default: closed loop, as fast as answers come).",
    )
    parser.add_argument("--workers", type=int, default=1, help="`synth serve --workers`.")
    parser.add_argument(
        "--query-cache",
        type=int,
        help="SYNTH_EMBEDDING_QUERY_CACHE_SIZE for the server (default: the setting's default).",
    )
    parser.add_argument(
        "--snippets",
        type=int,
        default=5000,
        help="Distinct body snippets added to the demo titles in the query pool.",
    )
    parser.add_argument("--demo-files", type=int, default=8, help="Demo networks to ingest.")
    parser.add_argument(
        "--backend", choices=("onnx-int8", "torch"), default="onnx-int8", help="Embedding backend."
    )
    parser.add_argument("--data-dir", type=Path, help="Reuse/keep the store here.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="synth-bench-api-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    env, titles = build_store(folder, args.passages, args.demo_files, args.backend)
    print(f"set-up {time.perf_counter() - started:.0f} s", file=sys.stderr)
    pool = query_pool(env["SYNTH_DATABASE_URL"], titles, args.snippets)
    rng = random.Random(5)  # uniform draws from the pool, with repeats
    budget = int((args.rate or 2000) * args.duration * 1.2) + 10 * args.clients + 100
    stream = [rng.choice(pool) for _ in range(budget)]
    if args.query_cache is not None:
        env["SYNTH_EMBEDDING_QUERY_CACHE_SIZE"] = str(args.query_cache)
    port = free_port()
    server = serve(env, port, args.workers)
    try:
        figures = asyncio.run(
            load(
                port,
                env["BENCH_KEY"],
                stream,
                clients=args.clients,
                duration=args.duration,
                rate=args.rate,
                server_pid=server.pid,
            )
        )
        counters = asyncio.run(cache_counters(port, args.workers))
    finally:
        server.terminate()
        server.wait(30)
    sent = stream[: int(figures["requests"]) + args.clients]
    seen: set[str] = set()
    repeats = 0
    for query in sent:
        key = " ".join(query.split())
        repeats += key in seen
        seen.add(key)
    result: dict[str, object] = {
        "passages": args.passages,
        "clients": args.clients,
        "workers": args.workers,
        "duration_s": args.duration,
        "query_cache_size": env.get("SYNTH_EMBEDDING_QUERY_CACHE_SIZE", "default"),
        "query_pool": len(pool),
        "repeated_query_share": round(repeats / max(len(sent), 1), 3),
        "cache_hit_ratio": round(counters[0] / max(sum(counters), 1), 3) if counters else None,
        "cache_lookups": sum(counters) if counters else 0,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        **figures,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
