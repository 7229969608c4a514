"""Imago models package.

Importing it turns off onnxruntime's telemetry before anything can import onnxruntime: on POSIX,
onnxruntime >= 1.31 otherwise looks up a Microsoft telemetry host a few seconds after import, and
Imago opens no network connection, ever. Every entry point (the command line, the GUI, the frozen
app, tests) reaches onnxruntime only through this package.
"""

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"
