"""Imago: composition root and command-line interface.

`python main.py` (or the installed `imago`) starts the desktop app; subcommands run the same core
without Qt. Exit codes: 0 ok, 1 failure, 2 usage error. Errors are one line on stderr unless --debug.
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from models.errors import ImagoError

__version__ = "0.1.0"

logger = logging.getLogger("imago")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


# ---------------------------------------------------------------------------------------------------
# logging


def configure_logging(debug: bool, log_file: Path | None = None) -> None:
    """Log to stderr (warnings, or everything with --debug) and optionally to a rotating file."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if debug else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        rotating.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(rotating)


# ---------------------------------------------------------------------------------------------------
# subcommands


def cmd_gui(args: argparse.Namespace) -> int:
    from store import config

    configure_logging(args.debug, config.log_dir() / "imago.log")
    from desktop.app import run_app

    archive = Path(args.archive).resolve() if args.archive else None
    return run_app(archive=archive, find_similar=args.find_similar, argv=[sys.argv[0]])


def cmd_doctor(args: argparse.Namespace) -> int:
    report = doctor_report()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"Imago {report['imago']}")
    print(f"Python {report['python']} ({report['platform']})")
    print(f"onnxruntime {report['onnxruntime']}")
    for probe in report["providers"]:
        state = "usable" if probe["usable"] else "not usable"
        print(f"  {probe['provider']}: {state} ({probe['detail']})")
    print(f"GPU: {report['gpu'] or 'none found'}")
    print(f"Settings: {report['paths']['settings']}")
    print(f"Logs: {report['paths']['logs']}")
    print(f"Model bundles: {report['paths']['models']}")
    if report["bundles"]:
        for bundle in report["bundles"]:
            print(f"  {bundle}")
    else:
        print("  none installed (see README: 'Getting real models')")
    print(f"Archive indexes: <archive>/.imago/ (read-only archives: {report['paths']['indexes']})")
    return EXIT_OK


def doctor_report() -> dict:
    """What `doctor` shows: versions, execution providers that really work, GPU, bundles, paths."""
    import onnxruntime

    from models.bundle_dir import installed_bundle_names
    from models.session import probe_providers
    from store import config

    models = config.models_dir()
    bundles = installed_bundle_names(models)
    return {
        "imago": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "onnxruntime": onnxruntime.__version__,
        "providers": [vars(p) for p in probe_providers()],
        "gpu": _gpu_name(),
        "bundles": bundles,
        "paths": {
            "settings": str(config.settings_path()),
            "logs": str(config.log_dir()),
            "models": str(models),
            "indexes": str(config.user_data_dir() / "indexes"),
        },
    }


def _gpu_name() -> str | None:
    """The NVIDIA GPU's name from nvidia-smi, or None when there is none (or no driver)."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return ", ".join(names) if out.returncode == 0 and names else None


def cmd_bench(args: argparse.Namespace) -> int:
    from store.bench import harness

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    records = harness.run(args.suites, quick=args.quick, progress=progress)
    if args.json:
        harness.write_json(records, Path(args.json))
    table = harness.to_markdown(records)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf-8")
    print(table)
    return EXIT_FAILURE if any(r.get("metric") == "failed" for r in records) else EXIT_OK


def _not_available(name: str):
    def handler(args: argparse.Namespace) -> int:
        raise ImagoError(f"'{name}' is not available in this version of Imago yet")

    return handler


# ---------------------------------------------------------------------------------------------------
# argument parsing

PLANNED = {
    "index": "index an archive folder",
    "search": "search an indexed archive by text",
    "similar": "find images similar to an image or item",
    "caption": "generate descriptions for images",
    "classify": "top categories and names for images",
    "export": "export an archive's catalogue as JSON or CSV",
    "models": "list, install, verify, export model bundles",
    "eval": "evaluate search and classification on a labelled dataset",
}


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

    gui = sub.add_parser("gui", parents=[common], help="start the desktop application (default)")
    gui.add_argument("archive", nargs="?", help="archive folder to open")
    gui.add_argument("--find-similar", metavar="FILE", help="show images similar to FILE")
    gui.set_defaults(handler=cmd_gui)

    doctor = sub.add_parser("doctor", parents=[common], help="check the installation")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(handler=cmd_doctor)

    bench = sub.add_parser("bench", parents=[common], help="run the benchmark harness")
    bench.add_argument("suites", nargs="*", metavar="SUITE", help="suites to run (default: all)")
    bench.add_argument("--quick", action="store_true", help="smaller sizes; finishes in minutes")
    bench.add_argument("--json", metavar="OUT", help="write the records as JSON")
    bench.add_argument("--markdown", metavar="OUT", help="write the table as Markdown")
    bench.set_defaults(handler=cmd_bench)

    for name, help_text in PLANNED.items():
        planned = sub.add_parser(name, parents=[common], help=help_text)
        planned.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        planned.set_defaults(handler=_not_available(name))
    return parser


def _with_default_command(argv: list[str], commands: set[str]) -> list[str]:
    """Insert `gui` when no subcommand is given: `imago`, `imago --find-similar F`, `imago ARCHIVE`."""
    i = 0
    while i < len(argv) and argv[i] == "--debug":
        i += 1
    if i < len(argv) and (argv[i] in commands or argv[i] in ("-h", "--help", "--version")):
        return argv
    return [*argv[:i], "gui", *argv[i:]]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    argv = _with_default_command(list(sys.argv[1:] if argv is None else argv), commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    args.debug = getattr(args, "debug", False)
    if args.command != "gui":
        configure_logging(args.debug)
    try:
        return args.handler(args)
    except ImagoError as exc:
        if args.debug:
            logger.exception("failed")
        print(f"imago: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("imago: interrupted", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
