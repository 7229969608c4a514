"""Bundled resources (icons, translations, vocabularies, sample archive) and how to find them."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Absolute path of a bundled resource, from a source checkout or a PyInstaller bundle.

    PyInstaller unpacks data files below `sys._MEIPASS`; the spec file copies this package's data
    to `<_MEIPASS>/resources`, so the relative layout is the same in both cases.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    base = Path(frozen_root) / "resources" if frozen_root else Path(__file__).resolve().parent
    return base.joinpath(*parts)
