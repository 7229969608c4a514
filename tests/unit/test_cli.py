import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(main.__file__).resolve().parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run the CLI as a user would, in a fresh process with no display."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, timeout=120
    )


def test_help_lists_the_subcommands(capsys):
    assert main.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in (
        "gui",
        "index",
        "search",
        "similar",
        "caption",
        "classify",
        "export",
        "models",
        "eval",
        "bench",
        "doctor",
    ):
        assert command in out


def test_version(capsys):
    assert main.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"Imago {main.__version__}"


def test_usage_error_exits_2(capsys):
    assert main.main(["doctor", "--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_doctor_reports_providers_bundles_and_paths(capsys, imago_home):
    shutil.copytree(ROOT / "tests" / "fixtures" / "models" / "clip-tiny", imago_home / "models" / "clip-tiny")
    broken = imago_home / "models" / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}")
    assert main.main(["doctor", "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert "broken" in err
    assert report["onnxruntime"]
    cpu = [p for p in report["providers"] if p["provider"] == "CPUExecutionProvider"]
    assert cpu and cpu[0]["usable"]
    assert report["bundles"] == ["clip-tiny@1 (clip)"]
    assert report["paths"]["models"] == str(imago_home / "models")


def test_doctor_runs_without_display_or_models(imago_home):
    result = run_cli("doctor")
    assert result.returncode == 0, result.stderr
    assert "CPUExecutionProvider: usable" in result.stdout
    assert "none installed" in result.stdout
    check = subprocess.run(
        [sys.executable, "-c", "import sys, main; main.main(['doctor']); print('PySide6' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert check.stdout.strip().splitlines()[-1] == "False", "doctor must not load Qt"


def test_failure_is_one_line_on_stderr_without_traceback(monkeypatch, capsys):
    def broken(args):
        from models.errors import ImagoError

        raise ImagoError("archive /x is not a folder")

    parser_main = main.build_parser
    monkeypatch.setattr(main, "build_parser", lambda: _with_handler(parser_main(), broken))
    assert main.main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert err == "imago: error: archive /x is not a folder\n"


def _with_handler(parser, handler):
    parser._subparsers._group_actions[0].choices["doctor"].set_defaults(handler=handler)
    return parser


def test_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(args):
        from models.errors import ImagoError

        raise ImagoError("boom")

    parser_main = main.build_parser
    monkeypatch.setattr(main, "build_parser", lambda: _with_handler(parser_main(), broken))
    assert main.main(["--debug", "doctor"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "imago: error: boom" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["gui"]),
        (["--find-similar", "a.jpg"], ["gui", "--find-similar", "a.jpg"]),
        (["/data/archive"], ["gui", "/data/archive"]),
        (["--debug"], ["--debug", "gui"]),
        (["--debug", "doctor"], ["--debug", "doctor"]),
        (["doctor", "--json"], ["doctor", "--json"]),
        (["--help"], ["--help"]),
    ],
)
def test_gui_is_the_default_command(argv, expected):
    commands = set(main.build_parser()._subparsers._group_actions[0].choices)
    assert main._with_default_command(argv, commands) == expected


def test_configure_logging_writes_a_log_file(tmp_path):
    import logging

    log_file = tmp_path / "logs" / "imago.log"
    main.configure_logging(debug=False, log_file=log_file)
    logging.getLogger("store.test").info("hello from the test")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "hello from the test" in log_file.read_text()
    main.configure_logging(debug=False)
