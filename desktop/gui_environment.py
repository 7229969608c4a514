"""Can the GUI start here? Checked before Qt is loaded, so a missing display or system library is one
clear line with what to do, instead of Qt's core dump (exit 134) and a hint naming the wrong library.

Linux only: Qt's wheels bring Qt itself, but its xcb platform plugin (an X11 or XWayland desktop) and
its rendering need a few system libraries that minimal installations lack. Windows and macOS need
nothing. No Qt import here.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

# library name (as ctypes.util.find_library takes it) -> Debian/Ubuntu package
COMMON_LIBRARIES = {
    "EGL": "libegl1",
    "GL": "libgl1",
    "xkbcommon": "libxkbcommon0",
    "fontconfig": "libfontconfig1",
    "glib-2.0": "libglib2.0-0",
    "dbus-1": "libdbus-1-3",
}
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xcb-randr": "libxcb-randr0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "X11-xcb": "libx11-xcb1",
}
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


def gui_environment_problem(
    env: Mapping[str, str] = os.environ, platform: str = sys.platform,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> str | None:  # fmt: skip
    """None when the GUI can start; else one line saying what is missing and how to fix it."""
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    headless = qpa in HEADLESS_PLATFORMS
    if not headless and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return "no display: use the command line (imago --help) or set QT_QPA_PLATFORM=offscreen"
    needed = dict(COMMON_LIBRARIES)
    if not headless and qpa in ("", "xcb"):  # Qt falls back to xcb under Wayland too
        needed |= XCB_LIBRARIES
    missing = sorted({package for library, package in needed.items() if not find_library(library)})
    if missing:
        return (
            "the window needs system libraries that are missing; install them with: "
            f"sudo apt-get install {' '.join(missing)}"
        )
    return None
