"""Search over a small store (hashing embedder) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from synth.config import SearchConfig
from synth.engine import Engine, build_engine
from synth.errors import NotFoundError, SearchFilterError
from synth.search.query import SearchQuery, Viewer
from synth.search.service import search_entries, similar_entries
from synth.services.ingest import ingest_records
from synth.types import EntryRecord, SourceRef, build_entry_record
from tests.conftest import HashingEmbedder

ENTRIES = [
    (
        "a1",
        "falls-prevention",
        "westmoor-hospital",
        "public",
        "Night huddles cut falls on ward seven",
    ),
    (
        "a2",
        "falls-prevention",
        "westmoor-hospital",
        "public",
        "Huddles at night: staff spotted risk early",
    ),
    ("a3", "falls-prevention", "westmoor-hospital", "public", "Night huddle timing moved to ten"),
    (
        "b1",
        "maternity",
        "eastbridge-maternity-unit",
        "public",
        "Safety huddles on the labour ward at night",
    ),
    (
        "b2",
        "maternity",
        "eastbridge-maternity-unit",
        "network",
        "Huddle notes shared with the night team",
    ),
    (
        "c1",
        "mental-health",
        "lowther-mental-health-services",
        "private",
        "Night huddles on the acute ward",
    ),
    (
        "d1",
        "care-at-home",
        "hillcrest-home-support",
        "public",
        "Hydration prompts at every home visit",
    ),
]


def records() -> list[EntryRecord]:
    return [
        build_entry_record(
            {
                "id": i,
                "kind": "story",
                "title": body,
                "body": body + ". " + body.lower() + ".",
                "network": net,
                "organisation": org,
                "visibility": vis,
                "occurred_on": f"2025-0{n % 9 + 1}-01",
                "tags": ["huddles"] if "uddle" in body else [],
            },
            source=SourceRef(file="t.jsonl", line=n),
        )
        for n, (i, net, org, vis, body) in enumerate(ENTRIES, 1)
    ]


@pytest.fixture
def loaded(fake_engine: Engine) -> Engine:
    ingest_records(fake_engine, records())
    return fake_engine


OPERATOR = Viewer.operator()


def run(engine: Engine, viewer: Viewer = OPERATOR, **kw: object) -> list[str]:
    query = SearchQuery(**{"text": "night huddles", **kw})  # type: ignore[arg-type]
    with engine.sessions() as session:
        hits = search_entries(
            session,
            engine.open_indexes(),
            engine.embedder,
            query,
            viewer=viewer,
            config=engine.config.search,
        )
    ids = {h.entry_id: h for h in hits}
    with engine.sessions() as session:
        from models import Entry

        return [session.get(Entry, i).external_id for i in ids]  # type: ignore[union-attr]


def test_search_finds_and_highlights(loaded: Engine) -> None:
    query = SearchQuery(text="night huddles", per_organisation=0)
    with loaded.sessions() as session:
        hits = search_entries(
            session,
            loaded.open_indexes(),
            loaded.embedder,
            query,
            viewer=Viewer.operator(),
            config=loaded.config.search,
        )
    assert "d1" not in [h.title for h in hits][:5]
    top = hits[0]
    assert top.passage.highlights
    assert {p.lower() for p in top.why} & {"night huddles", "huddles", "night", "huddle"}
    body_slice = top.passage.text[top.passage.highlights[0][0] : top.passage.highlights[0][1]]
    assert body_slice.lower().startswith(("night", "huddle"))
    assert top.links["similar"].endswith("/similar")


def test_visibility_limits_what_anonymous_and_members_see(loaded: Engine) -> None:
    anonymous = run(loaded, Viewer.anonymous(), per_organisation=0)
    assert "b2" not in anonymous and "c1" not in anonymous and "a1" in anonymous
    member = run(loaded, Viewer(networks=frozenset({"maternity"})), per_organisation=0)
    assert "b2" in member and "c1" not in member
    staff = run(
        loaded,
        Viewer(organisations=frozenset({"lowther-mental-health-services"})),
        per_organisation=0,
    )
    assert "c1" in staff


def test_filters_apply_before_ranking(loaded: Engine) -> None:
    assert set(run(loaded, networks=("maternity",), k=5)) == {"b1", "b2"}
    assert "a1" not in run(loaded, exclude_network="falls-prevention", per_organisation=0)
    assert run(loaded, kinds=("pdsa",)) == []
    assert set(run(loaded, tags=("huddles",), per_organisation=0)) == {
        "a1",
        "a2",
        "a3",
        "b1",
        "b2",
        "c1",
    }
    with pytest.raises(SearchFilterError, match="unknown network 'nope'"):
        run(loaded, networks=("nope",))


def test_per_organisation_cap_spreads_teams(loaded: Engine) -> None:
    capped = run(loaded, k=4, per_organisation=1, mode="bm25")
    assert len(capped) == 4 and capped[1:3] != ["a2", "a3"]
    first_three = capped[:3]
    assert len({i[0] for i in first_three}) == 3


def test_entry_level_fusion_is_the_default_and_agrees_on_one_passage_entries(
    loaded: Engine,
) -> None:
    assert SearchConfig().fusion_level == "entry"
    query = SearchQuery(text="night huddles on the ward", k=10, per_organisation=0)
    found = {}
    with loaded.sessions() as session:
        from sqlalchemy import select

        from models import Passage

        for level in ("entry", "passage"):
            hits = search_entries(
                session,
                loaded.open_indexes(),
                loaded.embedder,
                query,
                viewer=OPERATOR,
                config=SearchConfig(fusion_level=level),
            )
            owners = dict(session.execute(select(Passage.id, Passage.entry_id)).all())
            assert all(owners[h.passage.passage_id] == h.entry_id for h in hits)
            assert len({h.entry_id for h in hits}) == len(hits) == len(ENTRIES)
            found[level] = [(h.entry_id, round(h.score, 9)) for h in hits]
    # Every entry here is one passage, so fusing entries is fusing passages.
    assert found["entry"] == found["passage"]


def test_similar_excludes_itself(loaded: Engine) -> None:
    with loaded.sessions() as session:
        from sqlalchemy import select

        from models import Entry

        a1 = session.scalars(select(Entry.id).where(Entry.external_id == "a1")).one()
        hits = similar_entries(
            session,
            loaded.open_indexes(),
            a1,
            viewer=Viewer.operator(),
            config=SearchConfig(per_organisation=0),
            k=3,
        )
        assert a1 not in [h.entry_id for h in hits] and hits
        other = similar_entries(
            session,
            loaded.open_indexes(),
            a1,
            viewer=Viewer.operator(),
            config=SearchConfig(),
            k=3,
            exclude_same_network=True,
        )
        assert all(h.network != "falls-prevention" for h in other)
        c1 = session.scalars(select(Entry.id).where(Entry.external_id == "c1")).one()
        with pytest.raises(NotFoundError):
            similar_entries(
                session, loaded.open_indexes(), c1, viewer=Viewer.anonymous(), config=SearchConfig()
            )


def test_indexes_follow_updates_and_survive_restart(loaded: Engine) -> None:
    changed = build_entry_record(
        {
            "id": "d1",
            "kind": "story",
            "title": "Hydration",
            "body": "Night huddles now include hydration.",
            "network": "care-at-home",
            "organisation": "hillcrest-home-support",
            "visibility": "public",
        },
        source=SourceRef(file="t.jsonl", line=9),
    )
    ingest_records(loaded, [changed])
    assert "d1" in run(loaded, per_organisation=0, k=10)
    with loaded.sessions() as session:
        assert loaded.search_indexes.check_saved(session).ok
    folder = loaded.search_indexes._folder
    generation = (folder / "CURRENT").read_text()
    restarted = build_engine(loaded.config)
    restarted.__dict__["embedder"] = HashingEmbedder()
    assert "d1" in run(restarted, per_organisation=0, k=10)
    assert (folder / "CURRENT").read_text() == generation  # loaded, not rebuilt
    restarted.close()


@pytest.mark.parametrize("alone", [True, False])
def test_bm25_beside_the_encoder_changes_nothing(
    loaded: Engine, alone: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overlap on equals overlap off; it uses the helper only when no other search runs."""
    from contextlib import ExitStack

    from synth.search import overlap

    submitted = []
    submit = overlap._helpers.submit

    def counting(*args: object, **kwargs: object) -> object:
        submitted.append(args)
        return submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(overlap._helpers, "submit", counting)
    viewers = [OPERATOR, Viewer.anonymous(), Viewer(networks=frozenset({"maternity"}))]
    texts = ["night huddles", "falls at home", "safety briefing on the ward", "zzz"]
    with ExitStack() as others:
        if not alone:
            others.enter_context(overlap.alone())  # another search is running
        for viewer in viewers:
            for text in texts:
                found = []
                for on in (True, False):
                    with loaded.sessions() as session:
                        hits = search_entries(
                            session,
                            loaded.open_indexes(),
                            loaded.embedder,
                            SearchQuery(text=text, per_organisation=0),
                            viewer=viewer,
                            config=SearchConfig(overlap=on),
                        )
                    found.append(hits)
                assert found[0] == found[1]
                assert text == "zzz" or found[0]
    assert len(submitted) == (len(viewers) * len(texts) if alone else 0)
    assert overlap._running == 0


def test_a_forked_child_searches_with_its_own_helper(loaded: Engine) -> None:
    """A process that forks after a search (helper thread started) still searches in the child."""
    import os

    assert run(loaded)  # the parent's helper thread now exists
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's helper thread is not here
        code = 1
        try:
            loaded.db.dispose(close=False)  # fresh connections; the parent's stay the parent's
            code = 0 if run(loaded) else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(0)
    import select
    import signal

    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    answer = os.read(read, 1) if ready else b""
    os.close(read)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert ready, "the child's search did not finish in 60 s"
    assert answer == b"\x00"
