"""A small store with known themes for the briefing and action tests (no topic model fit).

Three vocabularies in three networks, entries of every visibility, two hidden entries with
marker words, a project with an improving measure; themes are assigned by hand from each
entry's vocabulary, so the tests know what every theme holds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from corpus.measures import read_measures
from models import Entry, Passage, PassageTopic, Theme, Topic, TopicRun
from synth.engine import Engine
from synth.services.directory import load_directory
from synth.services.ingest import ingest_records
from synth.services.measures import import_measures
from synth.types import DirectoryEntry, EntryKind, EntryRecord, SourceRef, Visibility

VOCABULARY = {
    "falls": "falls bed sensor alarm mobility hip fracture night slipper",
    "referral": "online referral form website queue phone booking reception access",
    "insulin": "insulin dose glucose diabetes chart pharmacist error syringe hypo",
}
NETWORKS = ("net-a", "net-b", "net-c")
#: name -> (network, organisation, visibility, marker only this entry contains)
HIDDEN = {
    "private_b": ("net-b", "org-b1", "private", "quokkasecret"),
    "network_a": ("net-a", "org-a1", "network", "zebrahidden"),
}


def _body(theme: str, where: str, marker: str = "") -> str:
    words = VOCABULARY[theme].split()
    return (
        f"Our team at {where} worked on {theme} with {' '.join(words[:6])} {marker}. "
        f"The {words[1]} {words[2]} change worked well and {theme} incidents went down. "
        f"A barrier was {words[3]} {words[4]} cover at night {marker}. "
        f"Next we will spread the {words[5]} {words[6]} idea to two more wards."
    )


def _records() -> list[EntryRecord]:
    records = []
    for t, theme in enumerate(VOCABULARY):
        for n, network in enumerate(NETWORKS):
            for j in range(2):
                records.append(
                    EntryRecord(
                        kind=EntryKind.REFLECTION,
                        title=f"{theme} note {network} {j}",
                        body=_body(theme, f"{network} site {j} {t}"),
                        network=network,
                        organisation=f"org-{network[-1]}{j + 1}",
                        visibility=Visibility.PUBLIC,
                        project="proj-a" if (theme, network, j) == ("falls", "net-a", 0) else None,
                        occurred_on=dt.date(2025, 1 + (3 * n + j + t) % 12, 5),
                        source=SourceRef(file="b.jsonl", external_id=f"{theme}-{network}-{j}"),
                    )
                )
    for name, (network, org, visibility, marker) in HIDDEN.items():
        records.append(
            EntryRecord(
                kind=EntryKind.STORY,
                title=f"falls {marker} story",
                body=_body("falls", org, marker),
                network=network,
                organisation=org,
                visibility=Visibility(visibility),
                occurred_on=dt.date(2025, 6, 1),
                source=SourceRef(file="b.jsonl", external_id=name),
            )
        )
    return records


def _measure_csv(folder: Path) -> Path:
    path = folder / "measures.csv"
    rows = ["measure_id,project,measure,unit,type,better,period,value"]
    for i in range(24):
        value = 9 + (i % 3) * 0.5 if i < 12 else 4 + (i % 2) * 0.5
        day = dt.date(2024 + i // 12, 1 + i % 12, 1)
        rows.append(f"falls-rate-a,proj-a,Falls per 1000 bed days,rate,count,down,{day},{value}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _assign_themes(engine: Engine) -> dict[str, int]:
    with engine.sessions.begin() as session:
        run = TopicRun(status="current", embedding_model=engine.embedder.name)
        session.add(run)
        session.flush()
        theme_ids = {}
        for i, (name, words) in enumerate(VOCABULARY.items()):
            phrases = words.split()[:4]
            theme = Theme(
                name=", ".join(phrases[:2]),
                key_phrases=phrases,
                centroid=b"\0" * 4,
                first_run_id=run.id,
                last_run_id=run.id,
            )
            session.add(theme)
            session.flush()
            topic = Topic(
                run_id=run.id, theme_id=theme.id, model_topic=i, label=theme.name,
                key_phrases=phrases, size=0, centroid=b"\0" * 4,
            )  # fmt: skip
            session.add(topic)
            session.flush()
            theme_ids[name] = (theme.id, topic.id)
        rows = session.execute(select(Passage.id, Entry.title).join(Entry)).all()
        for passage_id, title in rows:
            theme_id, topic_id = theme_ids[title.split()[0]]
            session.add(
                PassageTopic(
                    run_id=run.id,
                    passage_id=passage_id,
                    topic_id=topic_id,
                    theme_id=theme_id,
                    similarity=0.9,
                    assigned_by="fit",
                )
            )
    return {name: ids[0] for name, ids in theme_ids.items()}


def build_briefing_store(engine: Engine, folder: Path) -> dict[str, object]:
    """Fill ``engine``'s store; return theme ids by vocabulary and hidden entry ids by name."""
    orgs = [f"org-{n[-1]}{j}" for n in NETWORKS for j in (1, 2)]
    with engine.sessions.begin() as session:
        load_directory(
            session,
            networks=[DirectoryEntry(n, n.upper()) for n in NETWORKS],
            organisations=[DirectoryEntry(o, o.upper()) for o in orgs],
            projects=[DirectoryEntry("proj-a", "Falls project A", "net-a", "org-a1")],
            memberships=[(o, f"net-{o[4]}") for o in orgs],
        )
    ingest_records(engine, _records())
    batch = read_measures(_measure_csv(folder))
    with engine.sessions.begin() as session:
        import_measures(session, batch.records, batch.problems)
    themes = _assign_themes(engine)
    with engine.sessions() as session:
        rows = session.execute(
            select(Entry.external_id, Entry.id).where(Entry.external_id.in_(HIDDEN))
        )
        hidden = {str(name): int(entry_id) for name, entry_id in rows}
    return {"themes": themes, "hidden": hidden}
