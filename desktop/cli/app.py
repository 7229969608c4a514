"""`gui` (the desktop app, the only command that loads Qt) and `doctor` (what the installation has)."""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from desktop.cli.common import EXIT_FAILURE, EXIT_OK, __version__, configure_logging


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    gui = sub.add_parser("gui", parents=[common], help="start the desktop application (default)")
    gui.add_argument("archive", nargs="?", help="archive folder to open")
    gui.add_argument("--find-similar", metavar="FILE", help="show images similar to FILE")
    gui.set_defaults(handler=cmd_gui)

    doctor = sub.add_parser("doctor", parents=[common], help="check the installation")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(handler=cmd_doctor)


def cmd_gui(args: argparse.Namespace) -> int:
    from store import config

    configure_logging(args.debug, config.log_dir() / "imago.log")
    from desktop.gui_environment import gui_environment_problem

    problem = gui_environment_problem()
    if problem is not None:
        print(f"imago: {problem}", file=sys.stderr)
        return EXIT_FAILURE
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
        print("  none installed (see README: 'Models')")
    print("Shipped with Imago: " + (", ".join(report["shipped_bundles"]) or "none (the build lacks them)"))
    print(f"Archive indexes: <archive>/.imago/ (read-only archives: {report['paths']['indexes']})")
    return EXIT_OK


def doctor_report() -> dict:
    """What `doctor` shows: versions, execution providers that really work, GPU, bundles, paths."""
    import onnxruntime

    from models.bundle import list_bundles
    from models.loading import bundled_models_dir
    from models.session import probe_providers
    from store import config
    from store.storage.archive import fallback_root

    models = config.models_dir()
    bundles = [f"{b.model_id} ({b.kind})" for b in list_bundles(models)]  # broken ones are logged
    shipped = [f"{b.model_id} ({b.kind})" for b in list_bundles(bundled_models_dir())]
    return {
        "imago": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "onnxruntime": onnxruntime.__version__,
        "providers": [vars(p) for p in probe_providers()],
        "gpu": _gpu_name(),
        "bundles": bundles,
        "shipped_bundles": shipped,
        "paths": {
            "settings": str(config.settings_path()),
            "logs": str(config.log_dir()),
            "models": str(models),
            "indexes": str(fallback_root()),
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
