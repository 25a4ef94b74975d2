"""Turn validated records into stored-ready entries: normalise, redact, chunk.

Redaction runs before anything is hashed, chunked, embedded or stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from synth.config import EngineConfig
from synth.core.chunking import Chunk, build_chunks, fit_chunks_to_window, with_title
from synth.core.dedupe import compute_content_hash
from synth.core.normalise import normalise_text
from synth.core.pseudonym import pseudonymise_author
from synth.core.redaction import PersonFinder, redact_all
from synth.ports import SentenceSplitter
from synth.types import EntryRecord, compose_body

__all__ = ["PreparedEntry", "prepare_entries"]


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """A record after normalisation and redaction, with its passages (not yet embedded)."""

    record: EntryRecord
    title: str
    body: str
    fields: tuple[tuple[str, str], ...]
    author_pseudonym: str | None
    content_hash: str
    chunks: tuple[Chunk, ...]
    redactions: dict[str, int]

    @property
    def occurred_on(self) -> dt.date | None:
        """The date the learning happened."""
        return self.record.occurred_on


def _texts_of(record: EntryRecord) -> list[str]:
    """Title, then either the structured fields or the body, normalised."""
    parts = [normalise_text(record.title)]
    if record.fields:
        parts.extend(normalise_text(text) for _, text in record.fields)
    else:
        parts.append(normalise_text(record.body))
    return parts


@dataclass(frozen=True, slots=True)
class _Redacted:
    title: str
    body: str
    fields: tuple[tuple[str, str], ...]
    counts: dict[str, int]


def _redact_records(
    records: Sequence[EntryRecord], config: EngineConfig, person_finder: PersonFinder | None
) -> list[_Redacted]:
    """Redact every record's title and text in one batch (one NER pass)."""
    texts_per_record = [_texts_of(r) for r in records]
    flat = [t for texts in texts_per_record for t in texts]
    if config.redaction.enabled:
        results = redact_all(flat, kinds=config.redaction.kinds, person_finder=person_finder)
        redacted = [r.text for r in results]
        counts = [Counter({k.value: n for k, n in r.counts.items() if n}) for r in results]
    else:
        redacted, counts = flat, [Counter[str]() for _ in flat]
    out: list[_Redacted] = []
    position = 0
    for record, texts in zip(records, texts_per_record, strict=True):
        parts = redacted[position : position + len(texts)]
        total = sum(counts[position : position + len(texts)], Counter[str]())
        position += len(texts)
        if record.fields:
            names = [name for name, _ in record.fields]
            fields = tuple(zip(names, parts[1:], strict=True))
            body = compose_body(fields)
        else:
            fields, body = (), parts[1]
        out.append(_Redacted(title=parts[0], body=body, fields=fields, counts=dict(total)))
    return out


def prepare_entries(
    records: Sequence[EntryRecord],
    *,
    config: EngineConfig,
    splitter: SentenceSplitter,
    person_finder: PersonFinder | None,
    window: tuple[Callable[[Sequence[str]], list[int]], int] | None = None,
) -> list[PreparedEntry]:
    """Normalise, redact and chunk a batch of records.

    Args:
        records: Validated records.
        config: Redaction, chunking and pseudonymisation settings.
        splitter: Sentence boundaries for chunking.
        person_finder: NER for names, or ``None`` to skip name redaction.
        window: The embedder's word-piece counter and window; passages that overflow it
            are split again at sentence boundaries.

    Returns:
        One prepared entry per record, in order.
    """
    redacted = _redact_records(records, config, person_finder)
    sentences = splitter.split([item.body for item in redacted])
    key = config.pseudonym_key.encode("utf-8")
    chunk = config.chunk
    prepared = []
    for record, item, spans in zip(records, redacted, sentences, strict=True):
        chunks = build_chunks(
            item.body,
            spans,
            target_words=chunk.target_words,
            max_words=chunk.max_words,
            overlap_sentences=chunk.overlap_sentences,
        )
        if window is not None and chunks:
            count_tokens, limit = window
            counts = count_tokens([with_title(item.title, c.text) for c in chunks])
            chunks = fit_chunks_to_window(item.body, spans, chunks, counts, max_tokens=limit)
        prepared.append(
            PreparedEntry(
                record=record,
                title=item.title[:500] or "(untitled)",
                body=item.body,
                fields=item.fields,
                author_pseudonym=pseudonymise_author(record.author, key) if record.author else None,
                content_hash=compute_content_hash(item.body),
                chunks=tuple(chunks),
                redactions=item.counts,
            )
        )
    return prepared
