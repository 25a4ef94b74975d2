"""``synth keys create|list|revoke``: API keys, shown once and stored only as hashes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli_common import JsonOption, app, emit, state_of, stderr, synth_command
from synth.services.keys import create_key, list_keys, revoke_key
from synth.store import check_schema

__all__ = ["keys_app"]

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@keys_app.command("create")
@synth_command
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: read, write, admin.")] = "read",
    networks: Annotated[
        str | None, typer.Option(help="Comma-separated network slugs the key belongs to.")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option(help="Organisation slug the key acts for.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions.begin() as session:
        info, token = create_key(
            session,
            name=name,
            scopes=_split(scopes),
            networks=_split(networks),
            organisation=organisation,
        )
    stderr.print(f"created key {info.id} ({info.prefix}); it is shown once, keep it safe")
    if as_json:
        emit({"key": token})
    else:
        typer.echo(token)


@keys_app.command("list")
@synth_command
def keys_list(
    ctx: typer.Context,
    include_revoked: Annotated[
        bool, typer.Option("--include-revoked", help="Also list revoked keys.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List keys (id, prefix, scopes, networks, organisation, last use); never the tokens."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions() as session:
        keys = list_keys(session, include_revoked=include_revoked)
    if as_json:
        emit([k.to_dict() for k in keys])
        return
    table = Table(title="API keys")
    for column in ("id", "name", "prefix", "scopes", "networks", "organisation", "last used"):
        table.add_column(column)
    for k in keys:
        table.add_row(
            str(k.id),
            k.name,
            k.prefix,
            ",".join(k.scopes),
            ",".join(k.networks),
            k.organisation or "",
            k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never",
        )
    Console().print(table)


@keys_app.command("revoke")
@synth_command
def keys_revoke(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The key's id or prefix (see `synth keys list`).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    engine = state_of(ctx).engine()
    check_schema(engine.db)
    with engine.sessions.begin() as session:
        info = revoke_key(session, key)
    if as_json:
        emit(info.to_dict())
    else:
        stderr.print(f"revoked key {info.id} ({info.prefix})")
