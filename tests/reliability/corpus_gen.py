"""A deterministic synthetic corpus for the reliability tests: every entry carries a marker.

Each entry has a unique marker word (letters only, so BM25 keeps it whole) in its title and
body, so a search for the marker must find exactly that entry.
"""

from __future__ import annotations

import datetime as dt
import random
import string

from synth.types import EntryKind, EntryRecord, SourceRef, Visibility

NETWORKS = ("falls", "sepsis", "maternity", "mental-health")
_VOCABULARY = (
    "huddle safety board morning briefing escalation risk ward nurses referral online form "
    "queue booking access falls sensor alarm mobility fracture insulin dose glucose chart "
    "pharmacist sepsis antibiotics lactate screening triage bundle team patients staff week "
    "month measure run chart change idea test cycle learning barrier enabler audit"
)
WORDS = tuple(_VOCABULARY.split())


def marker(index: int) -> str:
    """A unique letters-only word for entry ``index`` (``qx`` + base-26 digits)."""
    letters = []
    value = index
    for _ in range(4):
        value, digit = divmod(value, 26)
        letters.append(string.ascii_lowercase[digit])
    return "qx" + "".join(reversed(letters)) + "vz"


def external_id(index: int) -> str:
    """The source id of entry ``index``."""
    return f"crash-{index:05d}"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def build_records(count: int, seed: int = 7) -> list[EntryRecord]:
    """``count`` distinct entries of one to four passages each."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        word = marker(index)
        sentences = [_sentence(rng) for _ in range(rng.randint(2, 14))]
        sentences.insert(rng.randrange(len(sentences)), f"The {word} team tried this.")
        network = NETWORKS[index % len(NETWORKS)]
        records.append(
            EntryRecord(
                kind=EntryKind.REFLECTION,
                title=f"Note {word}",
                body=" ".join(sentences),
                network=network,
                organisation=f"{network}-org{index % 5}",
                visibility=Visibility.NETWORK,
                occurred_on=dt.date(2024, 1 + index % 12, 1 + index % 28),
                source=SourceRef(file="crash.jsonl", external_id=external_id(index)),
            )
        )
    return records
