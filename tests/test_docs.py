"""Documentation is tested: every setting, registry name, format and command is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from api.cli import app
from api.settings import Settings
from corpus import available_formats
from synth.embedding import EMBEDDERS
from synth.index.dense import DENSE_INDEX_KINDS
from synth.index.lexical import TOKENIZERS

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def setting_names() -> list[str]:
    names = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += [f"SYNTH_{name}__{sub}".upper() for sub in annotation.model_fields]
        else:
            names.append(f"SYNTH_{name}".upper())
    return names


@pytest.mark.parametrize("variable", setting_names())
def test_every_setting_is_documented(variable: str) -> None:
    assert f"`{variable}`" in README


@pytest.mark.parametrize("name", sorted([*EMBEDDERS, *DENSE_INDEX_KINDS, *TOKENIZERS]))
def test_every_registry_name_is_documented(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("fmt", available_formats())
def test_every_format_is_documented(fmt: str) -> None:
    assert f"`{fmt}`" in README


def test_every_cli_command_is_documented() -> None:
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    for group in app.registered_groups:
        sub = group.typer_instance
        names += [f"{group.name} {c.name}" for c in sub.registered_commands]  # type: ignore[union-attr]
    for name in names:
        assert f"`synth {name}" in README, name


def test_readme_opens_with_the_two_commands() -> None:
    opening = README.split("```")[1]
    assert "make serve" in opening and "make test" in opening
