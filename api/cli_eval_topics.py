"""``synth eval topics``: NPMI, diversity, NMI and ARI on a labelled OCTIS corpus."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import JsonOption, emit, state_of, stderr, synth_command
from api.cli_search import eval_app
from api.progress import RichProgress
from corpus.octis import load_octis
from synth.engine import build_engine
from synth.services.topic_evaluation import (
    DEFAULT_NR_TOPICS,
    DEFAULT_SEEDS,
    TopicScores,
    evaluate_topics,
)
from synth.store import migrate

__all__ = ["eval_topics"]

_Ints = Annotated[list[int] | None, typer.Option()]


def _line(name: str, scores: TopicScores) -> str:
    return f"{name:>18}: " + "  ".join(
        f"{m} {scores.means[m]:.3f} ± {scores.stds[m]:.3f}" for m in scores.means
    )


@eval_app.command("topics")
@synth_command
def eval_topics(
    ctx: typer.Context,
    dataset: Annotated[Path, typer.Option(help="An OCTIS dataset folder (corpus.tsv, labels).")],
    nr_topics: _Ints = None,
    seed: _Ints = None,
    limit: Annotated[
        int | None, typer.Option(min=10, help="Only the first N documents (quick checks).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Topic coherence (NPMI), diversity, NMI and ARI: our pipeline vs plain BERTopic.

    Defaults follow the BERTopic paper: 10 to 50 topics in steps of 10, three seeds. The
    document embeddings are cached in a throw-away store under the data folder.
    """
    data = load_octis(dataset)
    documents, labels = data.documents[:limit], data.labels[:limit]
    settings = state_of(ctx).settings
    key = hashlib.sha256(str(dataset.resolve()).encode()).hexdigest()[:10]
    folder = settings.data_dir / "eval" / f"topics-{data.name}-{key}"
    config = settings.engine_config().model_copy(
        update={"database_url": f"sqlite:///{folder / 'store.db'}", "data_dir": str(folder)}
    )
    engine = build_engine(config)
    try:
        migrate(engine.db)
        with RichProgress(stderr) as progress:
            result = evaluate_topics(
                engine,
                documents,
                labels,
                nr_topics=tuple(nr_topics or DEFAULT_NR_TOPICS),
                seeds=tuple(seed or DEFAULT_SEEDS),
                progress=progress,
            )
    finally:
        engine.close()
    if as_json:
        emit({**result.to_dict(), "dataset": data.name})
        return
    stderr.print(_line("ours", result.ours))
    stderr.print(_line("ours (key phrases)", result.ours_key_phrases))
    stderr.print(_line("baseline", result.baseline))
