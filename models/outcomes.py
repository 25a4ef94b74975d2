"""Sentence outcome labels: which sentences of a passage say what worked, what didn't, and why."""

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OutcomeSentence(Base):
    """A labelled sentence of a passage.

    ``start``/``end`` are character offsets into ``Entry.body`` (like the passage's own), so
    the sentence is ``passage.text[start - passage.start : end - passage.start]``. ``label``
    is ``worked``, ``did_not_work``, ``barrier``, ``enabler`` or ``next_step``; ``method`` says
    what decided it (``section``, ``cue`` or ``prototype``). Sentences with no outcome have no row.
    """

    __tablename__ = "sentence_outcomes"
    __table_args__ = (Index("ix_sentence_outcomes_label_passage", "label", "passage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(20))
