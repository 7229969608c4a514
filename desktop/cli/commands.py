"""The `imago` command line: one parser with a subcommand per job, and `main`, which runs a command
and turns what goes wrong into an exit status (0 ok, 1 failure, 2 usage error) and one line on stderr.

Each command group (app, indexing, search, transfer, models, evaluation) adds its own parsers beside
its handlers; only `gui` loads Qt."""

from __future__ import annotations

import argparse
import sqlite3
import sys

from desktop.cli import app, evaluation, indexing, models, search, transfer
from desktop.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    UsageError,
    __version__,
    catalog_error_text,
    configure_logging,
    failed,
    os_error_text,
)
from models.errors import ImagoError

PLANNED: dict[str, str] = {}  # subcommands announced but not built yet: name -> help


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="debug logs and tracebacks"
    )

    parser = argparse.ArgumentParser(
        prog="imago", description="Offline semantic search for image archives.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"Imago {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (app, indexing, search, transfer, models, evaluation):
        group.add_parsers(sub, common)
    for name, help_text in PLANNED.items():
        planned = sub.add_parser(name, parents=[common], help=help_text)
        planned.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        planned.set_defaults(handler=_not_available(name))
    return parser


def _not_available(name: str):
    def handler(args: argparse.Namespace) -> int:
        raise ImagoError(f"'{name}' is not available in this version of Imago yet")

    return handler


def _with_default_command(argv: list[str], commands: set[str]) -> list[str]:
    """Insert `gui` when no subcommand is given: `imago`, `imago --find-similar F`, `imago ARCHIVE`."""
    i = 0
    while i < len(argv) and argv[i] == "--debug":
        i += 1
    if i < len(argv) and (argv[i] in commands or argv[i] in ("-h", "--help", "--version")):
        return argv
    return [*argv[:i], "gui", *argv[i:]]


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); the exit status."""
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    argv = _with_default_command(list(sys.argv[1:] if argv is None else argv), commands)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the subcommand's parser, with its usage (argparse's own would show the top one)
            _command_parser(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    args.debug = getattr(args, "debug", False)
    if args.command != "gui":
        configure_logging(args.debug)
    try:
        return args.handler(args)
    except UsageError as exc:
        try:
            _command_parser(parser, args).error(str(exc))
        except SystemExit as exit_:
            return int(exit_.code or EXIT_USAGE)
    except ImagoError as exc:
        return failed(args, str(exc))
    except KeyboardInterrupt:
        print("imago: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # disk full, read-only or unreadable files: one line, not a traceback
        return failed(args, os_error_text(exc))
    except sqlite3.Error as exc:
        return failed(args, catalog_error_text(exc))
    except Exception as exc:  # a bug: still one line (the traceback with --debug)
        return failed(args, f"unexpected {type(exc).__name__}: {exc} (--debug shows the details)")


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)subcommand's own parser for `args`, e.g. `imago models install`'s."""
    while parser._subparsers is not None:
        action = next(
            a for a in parser._subparsers._group_actions if isinstance(a, argparse._SubParsersAction)
        )
        chosen = getattr(args, action.dest, None)
        if chosen not in action.choices:
            break
        parser = action.choices[chosen]
    return parser
