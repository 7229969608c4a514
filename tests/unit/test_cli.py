import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import main
from desktop.cli import commands as cli

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
    assert report["shipped_bundles"] == ["mobilenet-v2-imagenet@1 (image)"]
    assert report["paths"]["models"] == str(imago_home / "models")


def test_doctor_runs_without_display_or_models(imago_home):
    result = run_cli("doctor")
    assert result.returncode == 0, result.stderr
    assert "CPUExecutionProvider: usable" in result.stdout
    assert "none installed" in result.stdout
    assert "Shipped with Imago: mobilenet-v2-imagenet@1 (image)" in result.stdout
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
    monkeypatch.setattr(cli, "build_parser", lambda: _with_handler(parser_main(), broken))
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
    monkeypatch.setattr(cli, "build_parser", lambda: _with_handler(parser_main(), broken))
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


# -- usage errors name the subcommand --------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["duplicates", "ARCHIVE", "--bogus"], "usage: imago duplicates"),
        (["models", "install", "x.zip", "--bogus"], "usage: imago models install"),
        (["search", "ARCHIVE", "--text", "x", "extra"], "usage: imago search"),
    ],
)
def test_unrecognized_arguments_show_the_subcommands_usage(capsys, argv, usage):
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage) and "unrecognized arguments" in err
    assert "COMMAND ..." not in err  # not the top-level usage


def test_meaningless_command_line_is_a_usage_error_of_the_subcommand(capsys, tmp_path):
    assert main.main(["similar", str(tmp_path)]) == 2  # neither IMAGE nor --item
    err = capsys.readouterr().err
    assert err.startswith("usage: imago similar") and "give either an IMAGE file or --item ID" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [("1e30", "an item id is a whole number, not '1e30'"), ("9" * 30, "no item can have the id"),
     ("0", "no item can have the id")],
)  # fmt: skip
def test_item_ids_out_of_range_are_usage_errors(capsys, tmp_path, value, message):
    assert main.main(["similar", str(tmp_path), "--item", value]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_top_is_bounded(capsys, tmp_path):
    assert main.main(["search", str(tmp_path), "--text", "x", "--top", "9" * 30]) == 2
    assert "--top takes a number from 1 to" in capsys.readouterr().err


def test_text_that_is_not_utf8_is_a_usage_error(tmp_path):
    """Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383): one line, exit 2."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "search", str(tmp_path), "--text", b"\xff\xfeicon"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "is not valid UTF-8 text" in err and "Traceback" not in err


# -- the archive is checked first ------------------------------------------------------------------


def test_search_on_a_missing_archive_says_so_before_anything_else(capsys, tmp_path):
    missing = tmp_path / "nope"
    assert main.main(["search", str(missing), "--text", "icon"]) == 1
    assert capsys.readouterr().err == f"imago: error: archive folder {missing} does not exist\n"
    (tmp_path / "file").write_text("x")
    assert main.main(["similar", str(tmp_path / "file"), "--item", "1"]) == 1
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["export", "--out", "x.json"], ["duplicates"], ["search", "--text", "x"]]
)
def test_an_index_folder_that_is_a_file_is_reported(capsys, tmp_path, command):
    (tmp_path / ".imago").write_text("not a folder")
    assert main.main([command[0], str(tmp_path), *command[1:]]) == 1
    err = capsys.readouterr().err
    assert err == f"imago: error: {tmp_path / '.imago'} is a file, not Imago's index folder; move it aside " \
        "(Imago keeps the index there)\n"  # fmt: skip


# -- query files: the type before opening ----------------------------------------------------------


def test_similar_refuses_devices_and_fifos_without_opening_them(capsys, tmp_path):
    assert main.main(["similar", str(tmp_path), "/dev/zero"]) == 1
    assert capsys.readouterr().err == "imago: error: /dev/zero is not a regular file (a device)\n"
    fifo = tmp_path / "query.jpg"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    assert main.main(["similar", str(tmp_path), str(fifo)]) == 1
    assert capsys.readouterr().err == f"imago: error: {fifo} is not a regular file (a FIFO)\n"
    assert main.main(["similar", str(tmp_path), str(tmp_path)]) == 1
    assert "is a folder, not an image file" in capsys.readouterr().err


def test_similar_refuses_a_query_file_over_the_size_limit(capsys, tmp_path, monkeypatch):
    import store.ingestion.decoder

    monkeypatch.setattr(store.ingestion.decoder, "MAX_READ_BYTES", 100)
    big = tmp_path / "big.jpg"
    big.write_bytes(bytes(1000))
    assert main.main(["similar", str(tmp_path), str(big)]) == 1
    assert "is too large for a query image" in capsys.readouterr().err


# -- failures outside ImagoError are one line too --------------------------------------------------


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/a/.imago/thumbs/x.jpg"),
         "the disk is full (/a/.imago/thumbs/x.jpg); free some space and run the command again"),
        (sqlite3.OperationalError("database or disk is full"),
         "the disk is full (database or disk is full); free some space and run the command again"),
        (sqlite3.OperationalError("attempt to write a readonly database"),
         "the archive's catalog cannot be written: it is read-only (attempt to write a readonly database)"),
        (OSError(errno.EROFS, "Read-only file system", "/mnt/a"), "the file system is read-only (/mnt/a)"),
        (ValueError("boom"), "unexpected ValueError: boom (--debug shows the details)"),
    ],
)  # fmt: skip
def test_os_and_database_errors_are_one_line(monkeypatch, capsys, error, message):
    def broken(args):
        raise error

    parser_main = main.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_handler(parser_main(), broken))
    assert main.main(["doctor"]) == 1
    assert capsys.readouterr().err == f"imago: error: {message}\n"


# -- bench -----------------------------------------------------------------------------------------


def test_a_suite_that_dies_reports_its_exit_status_or_signal():
    import signal

    from benchmarks import harness

    # Stand-in suites called as suite(quick=True): os._exit(1) and signal.raise_signal(1) (SIGHUP).
    # A run under nohup ignores SIGHUP, and the suite's process would inherit that: not here.
    restore = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        _suites_that_die(harness)
    finally:
        signal.signal(signal.SIGHUP, restore)


def _suites_that_die(harness) -> None:
    suites = {"exits": "os:_exit", "killed": "signal:raise_signal"}
    exited = harness.run_suite("exits", True, suites)
    assert exited.error == "suite process exited with status 1 before reporting"
    killed = harness.run_suite("killed", True, suites)
    assert killed.error == "suite process was killed by SIGHUP before reporting"
    assert killed.records[0].metric == "failed" and "SIGHUP" in killed.records[0].note


def test_gui_suite_runs_offscreen_without_a_display(monkeypatch):
    from benchmarks import gui_suite as bench

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    seen = {}

    def first_measurement(count):
        seen["platform"] = os.environ.get("QT_QPA_PLATFORM")
        raise RuntimeError("stop here")

    monkeypatch.setattr(bench, "measure_stall", first_measurement)
    with pytest.raises(RuntimeError, match="stop here"):
        bench.run(quick=True)
    assert seen["platform"] == "offscreen"
    monkeypatch.setenv("QT_QPA_PLATFORM", "minimal")  # a platform chosen by the user is kept
    env = dict(os.environ)
    bench.offscreen_without_display(env)
    assert env["QT_QPA_PLATFORM"] == "minimal"


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        (["classify"], "usage: imago classify", "give one or more image files to classify"),
        (["classify", "train", "x.jpg"], "usage: imago classify", "'classify train' takes --labels CSV"),
        (["eval", "DATASET", "--split-file", "s.txt"], "usage: imago eval", "give both --split-file"),
    ],
)
def test_argument_combinations_that_mean_nothing_exit_2_with_the_usage(capsys, argv, usage, message):
    assert main.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage) and message in err


# -- tools the installed app does not ship -----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "missing", "message"),
    [
        (["bench", "--quick"], ["benchmarks", "benchmarks.harness"], "'bench' needs a source checkout"),
        (["models", "export", "clip", "SRC", "--out", "OUT"],
         ["models.export", "models.export.clip", "models.export.git"],
         "'models export' needs a source checkout with the [export] extra"),
    ],
)  # fmt: skip
def test_tools_missing_from_the_build_are_refused_plainly(monkeypatch, capsys, argv, missing, message):
    """The frozen app holds no benchmarks and no exporters: a plain one-line refusal, no traceback."""
    for name in missing:
        monkeypatch.setitem(sys.modules, name, None)  # what an import of a module not in the build sees
    assert main.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"imago: error: {message}") and err.count("\n") == 1


def test_a_missing_dependency_of_a_tool_is_not_taken_for_the_missing_tool(monkeypatch, capsys):
    import benchmarks.harness

    monkeypatch.delitem(sys.modules, "benchmarks.harness")  # imported afresh, then
    monkeypatch.delattr(benchmarks, "harness")
    monkeypatch.setitem(sys.modules, "resource", None)  # a module the harness needs is missing
    assert main.main(["bench", "--quick"]) == 1
    err = capsys.readouterr().err
    assert "ModuleNotFoundError" in err and "source checkout" not in err
