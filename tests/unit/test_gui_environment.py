"""The GUI's start check: no display, or missing system libraries, is one line with the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desktop.gui_environment import COMMON_LIBRARIES, XCB_LIBRARIES, gui_environment_problem

REPO = Path(__file__).resolve().parents[2]


def _all_present(name: str) -> str:
    return f"lib{name}.so"


def test_a_desktop_with_every_library_starts():
    assert gui_environment_problem({"DISPLAY": ":0"}, "linux", _all_present) is None
    assert gui_environment_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", _all_present) is None


def test_no_display_says_so():
    problem = gui_environment_problem({}, "linux", _all_present)
    assert problem == "no display: use the command line (imago --help) or set QT_QPA_PLATFORM=offscreen"
    assert gui_environment_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", _all_present) is None


def test_missing_xcb_libraries_give_the_exact_install_line():
    def without_icccm_and_keysyms(name: str) -> str | None:
        return None if name in ("xcb-icccm", "xcb-keysyms") else _all_present(name)

    problem = gui_environment_problem({"DISPLAY": ":0"}, "linux", without_icccm_and_keysyms)
    assert problem.endswith("install them with: sudo apt-get install libxcb-icccm4 libxcb-keysyms1")
    # offscreen needs no xcb libraries, only the common ones
    assert (
        gui_environment_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", without_icccm_and_keysyms) is None
    )
    problem = gui_environment_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", lambda name: None)
    assert problem.endswith("sudo apt-get install " + " ".join(sorted(COMMON_LIBRARIES.values())))
    assert not set(XCB_LIBRARIES.values()) & set(problem.split())


def test_windows_and_macos_need_nothing():
    assert gui_environment_problem({}, "win32", lambda name: None) is None
    assert gui_environment_problem({}, "darwin", lambda name: None) is None


def test_gui_without_a_display_exits_with_one_line_not_a_core_dump(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "IMAGO_HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, str(REPO / "main.py"), "gui"], capture_output=True, text=True,
                         env=env, timeout=120)  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "imago: no display: use the command line (imago --help) or set QT_QPA_PLATFORM=offscreen"
    ]
