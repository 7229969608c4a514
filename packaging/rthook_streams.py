"""PyInstaller runtime hook: give a windowed (no console) executable usable stdout/stderr.

In `imago-gui.exe` (Windows, console=False) `sys.stdout` and `sys.stderr` are None, so a stray print or
a logging StreamHandler would raise. The GUI logs to its rotating log file; console output is discarded.
"""

import os
import sys

for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (lives as long as the app)
