"""Themes on the demo corpus: planted cross-network themes recovered, with and without centring.

Run: ``.venv/bin/python bench/demo_themes.py`` (loads the demo corpus into a throw-away store
with the real embedding model, then fits topics with ``network_centring`` 1.0 and 0.0).

A planted theme counts as *recovered* when at least half of its entries (by the ground truth
in ``corpus/demo/ground_truth``) have most of their passages in one and the same topic. Also
reports topics, the unassigned share before and after outlier reduction, and fit time.
Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from typer.testing import CliRunner

from api.cli import app
from corpus.demo_data import DEMO_DIR
from models import Entry, Passage, PassageTopic, TopicRun
from synth.config import EngineConfig, TopicConfig
from synth.engine import build_engine
from synth.services.topics import fit_topic_run


def planted() -> dict[str, set[str]]:
    """Planted cross-network theme → external ids of its entries."""
    out: dict[str, set[str]] = defaultdict(set)
    for path in (DEMO_DIR / "ground_truth").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for theme in row["themes"]:
                if not theme.startswith("local:"):
                    out[theme].add(row["id"])
    return out


def recovery(session: object, run_id: int) -> dict[str, float]:
    """Share of each planted theme's entries whose majority topic is the theme's modal topic."""
    rows = session.execute(  # type: ignore[attr-defined]
        select(Entry.external_id, PassageTopic.topic_id)
        .join(Passage, Passage.entry_id == Entry.id)
        .join(PassageTopic, PassageTopic.passage_id == Passage.id)
        .where(PassageTopic.run_id == run_id)
    ).all()
    topics_of: dict[str, Counter[int | None]] = defaultdict(Counter)
    for external_id, topic_id in rows:
        topics_of[external_id][topic_id] += 1
    shares = {}
    for theme, entries in sorted(planted().items()):
        votes = Counter(topics_of[e].most_common(1)[0][0] for e in entries if topics_of[e])
        shares[theme] = round(votes.most_common(1)[0][1] / len(entries), 2)
    return shares


def main() -> None:
    """Load the demo corpus, fit with and without centring, report."""
    folder = Path(tempfile.mkdtemp(prefix="synth-bench-demo-themes-"))
    config = EngineConfig(database_url=f"sqlite:///{folder / 'demo.db'}", data_dir=str(folder))
    env = {"SYNTH_DATABASE_URL": config.database_url, "SYNTH_DATA_DIR": str(folder)}
    loaded = CliRunner().invoke(app, ["demo"], env=env)
    assert loaded.exit_code == 0, loaded.output
    engine = build_engine(config)
    result = {}
    for centring in (1.0, 0.0):
        topic_config = TopicConfig(network_centring=centring)
        report = fit_topic_run(engine.sessions, engine.embedder, topic_config, folder)
        with engine.sessions() as session:
            shares = recovery(session, report.run_id)
            assert session.get_one(TopicRun, report.run_id).status == "current"
        result[f"centring_{centring}"] = {
            "topics": report.topics,
            "outlier_share": report.outlier_share,
            "outlier_share_before_reduction": report.outlier_share_before_reduction,
            "fit_s": report.seconds,
            "recovered": sum(s >= 0.5 for s in shares.values()),
            "planted": len(shares),
            "shares": shares,
        }
    print(json.dumps(result))
    engine.close()


if __name__ == "__main__":
    main()
