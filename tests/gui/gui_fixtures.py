"""Shared constants of the GUI tests (importable from test modules, unlike conftest)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLIP_TINY = FIXTURES / "models" / "clip-tiny"
ARCHIVE_FILES = 9  # the `archive` fixture: five fixture photos and four generated images
