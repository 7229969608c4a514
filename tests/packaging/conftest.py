"""Fixtures for the packaging tests: build the PyInstaller bundle once per session; strace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_support import BUILD_TIMEOUT_S, ROOT, FrozenApp


@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory) -> FrozenApp:
    """Builds the bundle with `packaging/build` into a temp dir (removed afterwards).

    IMAGO_FROZEN_APP=/path/to/dist/imago reuses an existing build instead (for iterating on the tests).
    """
    prebuilt = os.environ.get("IMAGO_FROZEN_APP")
    if prebuilt:
        yield FrozenApp(Path(prebuilt).resolve())
        return
    out = tmp_path_factory.mktemp("pyinstaller")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IMAGO_BUNDLE_CUDA")}
    env["PYTHON"] = sys.executable
    result = subprocess.run(
        [str(ROOT / "packaging" / "build"), "--dist", str(out / "dist"), "--work", str(out / "work")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        env=env,
    )
    assert result.returncode == 0, f"build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    yield FrozenApp(out / "dist" / "imago")
    shutil.rmtree(out, ignore_errors=True)  # ~600 MB; pytest would keep the last three runs
