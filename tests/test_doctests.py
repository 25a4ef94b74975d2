"""Every ``Example`` in a public docstring runs."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import corpus
import synth.core

MODULES = sorted(
    name
    for package in (synth.core, corpus)
    for _, name, _ in pkgutil.iter_modules(package.__path__, package.__name__ + ".")
)


@pytest.mark.parametrize("name", [*MODULES, "corpus"])
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert failures == 0
