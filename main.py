"""Imago's entry point: `python main.py` (or the installed `imago`) runs the command line in desktop/cli/;
with no subcommand it starts the desktop app."""

import sys

from desktop.cli.commands import PLANNED, _with_default_command, build_parser, main
from desktop.cli.common import __version__, configure_logging

__all__ = ["PLANNED", "__version__", "_with_default_command", "build_parser", "configure_logging", "main"]

if __name__ == "__main__":
    sys.exit(main())
