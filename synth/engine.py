"""Build the engine once: database, sentence splitter, embedder and person finder.

The API builds it in its lifespan and the CLI in its callback; nothing loads at import.
Heavy models load on first use, so commands that only read the store start fast.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from synth.config import EngineConfig
from synth.core.redaction import PersonFinder, RedactionKind
from synth.embedding import build_embedder
from synth.errors import ModelNotFoundError
from synth.ports import Embedder, SentenceSplitter
from synth.search.indexes import IndexSet, SearchIndexes
from synth.sentences import SpacySentenceSplitter
from synth.store import build_db_engine, build_session_factory

if TYPE_CHECKING:
    from synth.outcomes import OutcomeClassifier

__all__ = ["Engine", "build_engine"]

logger = logging.getLogger(__name__)


@dataclass
class Engine:
    """The loaded resources every service function is given."""

    config: EngineConfig
    db: DbEngine
    sessions: sessionmaker[Session]

    @property
    def data_dir(self) -> Path:
        """Folder for derived artefacts (indexes, topic models)."""
        return Path(self.config.data_dir)

    @functools.cached_property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        return build_embedder(self.config.embedding)

    @functools.cached_property
    def splitter(self) -> SentenceSplitter:
        """The rule-based sentence splitter."""
        return SpacySentenceSplitter()

    @functools.cached_property
    def outcome_classifier(self) -> OutcomeClassifier:
        """The sentence outcome classifier (prototypes embedded on first use)."""
        from synth.outcomes import OutcomeClassifier

        return OutcomeClassifier(self.embedder, self.splitter, self.config.outcomes)

    @functools.cached_property
    def person_finder(self) -> PersonFinder | None:
        """The NER person finder, or ``None`` when name redaction is off."""
        redaction = self.config.redaction
        if not redaction.enabled or RedactionKind.PERSON not in redaction.kinds:
            return None
        from synth.ner import SpacyPersonFinder

        try:
            return SpacyPersonFinder(redaction.spacy_pipeline)
        except RuntimeError as exc:
            raise ModelNotFoundError(str(exc)) from None

    @functools.cached_property
    def search_indexes(self) -> SearchIndexes:
        """The dense + lexical indexes of this process (opened by :meth:`open_indexes`)."""
        embedder = self.embedder
        folder = self.data_dir / "index" / _folder_name(embedder.name)
        return SearchIndexes(folder, self.config.index, embedder.name, embedder.dim)

    def open_indexes(self) -> IndexSet:
        """Return indexes matching the store: loaded, caught up, or rebuilt (never re-embeds)."""
        manager = self.search_indexes
        with self.sessions() as session:
            if manager.current is None:
                return manager.open(session)
            return manager.refresh(session)

    def indexes_for_search(self) -> IndexSet:
        """Return the indexes for a read, following other processes' writes when due.

        At most every ``index.refresh_seconds`` the change feed is checked (a cheap signature
        first); a search never waits for another thread's refresh. Writers in this process
        call :meth:`open_indexes` instead, so their own writes are searchable at once.
        """
        return self.search_indexes.refresh_if_due(self.sessions)

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


def _folder_name(model: str) -> str:
    """A file-system-safe folder name for a model name or path."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in model.strip("/"))[-80:]


def build_engine(config: EngineConfig) -> Engine:
    """Connect to the store described by ``config`` (models load lazily on first use)."""
    db = build_db_engine(config.database_url)
    return Engine(config=config, db=db, sessions=build_session_factory(db))
