"""Cheap look at the model bundle directory, without loading or verifying anything."""

from __future__ import annotations

from pathlib import Path

MANIFEST = "manifest.json"


def installed_bundle_names(models_dir: Path) -> list[str]:
    """Names of the sub-folders of `models_dir` that hold a manifest, sorted; [] if the dir is missing."""
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if (p / MANIFEST).is_file())
