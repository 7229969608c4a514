"""Imago's command line, a front end beside the desktop window: `desktop.cli.main` runs it (main.py and
the installed `imago` command call it). One module per command group, each parser beside its handler."""

from desktop.cli.commands import main

__all__ = ["main"]
