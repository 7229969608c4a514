"""The `export` marker: parity tests skip without torch, but fail when `-m export` asked for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/integration/test_captioner_export.py::test_exported_graphs_keep_git_masking"
# pytest in a child interpreter where torch and transformers cannot be imported
WITHOUT_TORCH = (
    "import sys; sys.modules['torch'] = sys.modules['transformers'] = None; import pytest; "
    "sys.exit(pytest.main(sys.argv[1:]))"
)


def _run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", WITHOUT_TORCH, "-p", "no:cacheprovider", "-q", "-rfs", *args, TARGET]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_without_torch_export_tests_skip_by_default():
    result = _run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout and "need torch, transformers" in result.stdout


def test_without_torch_selecting_export_tests_is_an_error():
    for expression in ("export", "export and not gui"):
        result = _run("-m", expression)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "1 error" in result.stdout and "selected with -m export" in result.stdout
    deselected = _run("-m", "not export")
    assert deselected.returncode == 5 and "1 deselected" in deselected.stdout  # nothing ran, nothing failed
