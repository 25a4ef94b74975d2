"""The bundled demo corpus: registry of networks, organisations and projects, and entry files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from synth.types import DirectoryEntry

__all__ = ["DEMO_DIR", "DemoRegistry", "demo_entry_files", "load_demo_registry"]

#: Folder of the demo corpus inside the installed package.
DEMO_DIR = Path(__file__).parent / "demo"


class DemoRegistry:
    """Networks, organisations (with memberships) and projects of the demo learning system."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.networks = [DirectoryEntry(n["slug"], n["name"]) for n in data["networks"]]
        self.organisations = [DirectoryEntry(o["slug"], o["name"]) for o in data["organisations"]]
        self.memberships = [
            (o["slug"], network) for o in data["organisations"] for network in o["networks"]
        ]
        self.projects = [
            DirectoryEntry(p["slug"], p["name"], p["network"], p["organisation"])
            for p in data["projects"]
        ]
        self.themes = {t["id"]: t["name"] for t in data["themes"]}


def load_demo_registry(folder: Path = DEMO_DIR) -> DemoRegistry:
    """Read ``registry.yaml`` of the demo corpus."""
    with (folder / "registry.yaml").open(encoding="utf-8") as handle:
        return DemoRegistry(yaml.safe_load(handle))


def demo_entry_files(folder: Path = DEMO_DIR) -> list[Path]:
    """Return the demo corpus entry files (one JSON Lines file per network), sorted."""
    return sorted((folder / "entries").glob("*.jsonl"))
