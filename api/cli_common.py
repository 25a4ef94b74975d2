"""Shared pieces of the ``synth`` CLI: the Typer app, per-invocation state, error mapping."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from api.settings import Settings
from corpus import SourceFormatError
from synth.engine import Engine, build_engine
from synth.errors import IngestError, SynthError

__all__ = ["JsonOption", "app", "emit", "state_of", "stderr", "synth_command"]

app = typer.Typer(
    name="synth",
    help="Knowledge synthesis for learning systems in health and care improvement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


class CliState:
    """Settings and the lazily built engine of one CLI invocation."""

    def __init__(self, settings: Settings, *, debug: bool) -> None:
        self.settings = settings
        self.debug = debug
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """Build the engine on first use."""
        if self._engine is None:
            self._engine = build_engine(self.settings.engine_config())
        return self._engine

    def close(self) -> None:
        """Release the engine's connections."""
        if self._engine is not None:
            self._engine.close()


def state_of(ctx: typer.Context) -> CliState:
    """Return the state the root callback stored on the context."""
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    return state


def _report_problem(exc: Exception) -> None:
    message = exc.message if isinstance(exc, SynthError) else str(exc)
    typer.echo(f"error: {message}", err=True)
    if isinstance(exc, IngestError):
        for line in exc.problems[:50]:
            typer.echo(f"  {line}", err=True)
        if len(exc.problems) > 50:
            typer.echo(f"  … and {len(exc.problems) - 50} more", err=True)


def synth_command(func: Callable[P, R]) -> Callable[P, R]:
    """Map :class:`SynthError` to exit 2 with one clear line; other errors to exit 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (SynthError, SourceFormatError) as exc:
            _report_problem(exc)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            ctx = kwargs.get("ctx")
            if isinstance(ctx, typer.Context) and state_of(ctx).debug:
                raise
            typer.echo(
                f"unexpected error: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback)",
                err=True,
            )
            raise typer.Exit(1) from None

    return wrapper


@app.callback()
def _main(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    from api.logging_config import configure_logging

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "SYNTH_" + "__".join(str(p) for p in first["loc"]).upper()
        typer.echo(f"error: setting {field}: {first['msg']}", err=True)
        raise typer.Exit(2) from None
    configure_logging(fmt=settings.log_format, level="DEBUG" if debug else "WARNING")
    if settings.hf_hub_offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    state = CliState(settings, debug=debug)
    ctx.obj = state
    ctx.call_on_close(state.close)


def emit(data: dict[str, Any] | list[Any]) -> None:
    """Print one JSON document on stdout."""
    typer.echo(json.dumps(data, indent=2, default=str))
