"""Build the PyInstaller bundle and run the frozen binary headless, watching for network calls.

Every run of the frozen binary happens under `strace -f -e trace=connect,sendto,sendmsg`; any call that
names an AF_INET/AF_INET6 address fails the test. Subcommands that the source CLI implements (not in
`main.PLANNED`) must work from the frozen binary too and give the same results as the source; commands
still planned must say "not available" in both, so this test starts checking them as soon as they land.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from network_trace import run_long_lived
from packaging_support import (
    ROOT,
    RUN_TIMEOUT_S,
    FrozenApp,
    frozen_env,
    network_calls,
    run_traced,
    strace_command,
    traced_child,
)
from PIL import Image, ImageDraw
from PyInstaller.archive.readers import CArchiveReader

import main

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="strace-based checks are Linux-only"),
]

# Export/test-only distributions that must not be in the bundle, as top-level module names.
FORBIDDEN_MODULES = {
    "torch",
    "torchvision",
    "transformers",
    "optimum",
    "onnxscript",
    "onnx_ir",
    "huggingface_hub",
    "safetensors",
    "sympy",
    "pytest",
    "hypothesis",
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def _bundled_module_names(app: FrozenApp) -> set[str]:
    """Top-level names of the Python modules in the executable's PYZ archive."""
    return {name.split(".")[0] for name in _bundled_modules(app)}


def _bundled_modules(app: FrozenApp) -> set[str]:
    """Full names of the Python modules in the executable's PYZ archive."""
    return set(CArchiveReader(str(app.exe)).open_embedded_archive("PYZ.pyz").toc)


NETWORK_PROBE = """
import socket
for family, address in ((socket.AF_UNIX, "/nonexistent/imago.sock"), (socket.AF_INET, ("192.0.2.1", 9))):
    try:  # a UDP connect sends no packet; it only shows up in the trace
        socket.socket(family, socket.SOCK_DGRAM).connect(address)
    except OSError:
        pass
"""


def test_the_network_check_sees_inet_connects_but_not_local_ones(strace, tmp_path):
    log = tmp_path / "strace.log"
    probe = strace_command(strace, log, [sys.executable, "-c", NETWORK_PROBE])
    subprocess.run(probe, check=True, timeout=RUN_TIMEOUT_S, env=frozen_env(tmp_path))
    calls = network_calls(log)
    assert len(calls) == 1 and "192.0.2.1" in calls[0], calls
    assert "/nonexistent/imago.sock" in log.read_text()


# ---------------------------------------------------------------------------------------------------
# contents


def test_bundle_has_no_export_or_test_packages(frozen_app):
    modules = _bundled_module_names(frozen_app)
    assert {"models", "store", "desktop", "resources", "onnxruntime", "PySide6", "PIL", "usearch"} <= modules
    assert not modules & FORBIDDEN_MODULES, f"forbidden modules in the PYZ: {modules & FORBIDDEN_MODULES}"
    for path in frozen_app.internal.rglob("*"):
        rel = path.relative_to(frozen_app.internal)
        top = rel.parts[0].split("-")[0].split(".")[0]
        assert top not in FORBIDDEN_MODULES, f"forbidden package in the bundle: {rel}"
        assert not path.name.startswith(("libtorch", "libc10")), f"torch library in the bundle: {rel}"
        # Model bundles live in the user's model dir, never in the app (resources/probe is a 1 KB probe).
        assert path.suffix != ".onnx" or rel.parts[0] == "resources", f"model inside the app: {rel}"


def test_bundle_has_no_benchmark_synthetic_data_or_export_code(frozen_app):
    tooling = [m for m in _bundled_modules(frozen_app) if m.split(".")[0] == "benchmarks"
               or m == "models.export" or m.startswith("models.export.")]  # fmt: skip
    assert tooling == [], f"tooling modules in the PYZ: {tooling}"
    assert "desktop.cli.evaluation" in _bundled_modules(frozen_app)  # the CLI that refuses `bench` is there
    files = [p.relative_to(frozen_app.internal) for p in frozen_app.internal.rglob("*")]
    tooling_files = [f for f in files if f.parts[0] == "benchmarks" or f.parts[:2] == ("models", "export")]
    assert tooling_files == [], f"tooling files in the bundle: {tooling_files}"


def test_bundle_has_resources_onnxruntime_and_qt_plugins(frozen_app):
    internal = frozen_app.internal
    source_resources = ROOT / "resources"
    for path in source_resources.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".py", ".pyc", ".ts"):
            rel = path.relative_to(source_resources)
            assert (internal / "resources" / rel).is_file(), f"resource missing from the bundle: {rel}"
    assert (internal / "resources" / "probe" / "identity.onnx").is_file()
    assert (internal / "resources" / "icons" / "imago.png").is_file()

    import onnxruntime

    capi = Path(onnxruntime.__file__).parent / "capi"
    bundled_capi = internal / "onnxruntime" / "capi"
    # The Python binding links the CPU runtime statically (libonnxruntime.so.* is the unused C API
    # library); execution providers are plugins: providers_shared always, CUDA/TensorRT in onnxruntime-gpu.
    assert (bundled_capi / Path(onnxruntime.capi.onnxruntime_pybind11_state.__file__).name).is_file()
    provider_libs = [p.name for p in capi.iterdir() if p.name.startswith("libonnxruntime_providers_")]
    assert "libonnxruntime_providers_shared.so" in provider_libs
    # ...but none of the CUDA runtime: the CUDA provider uses the target machine's CUDA/cuDNN install.
    cuda_runtime = ("libcudart", "libcublas", "libcudnn", "libnvinfer")
    assert not [p.name for p in internal.rglob("*") if p.name.startswith(cuda_runtime)]
    for name in provider_libs:
        assert (bundled_capi / name).is_file(), f"onnxruntime library missing from the bundle: {name}"

    plugins = internal / "PySide6" / "Qt" / "plugins"
    for plugin in ("platforms/libqoffscreen.so", "platforms/libqxcb.so", "platforms/libqwayland.so"):
        assert (plugins / plugin).is_file(), f"Qt plugin missing: {plugin}"
    for plugin in ("libqjpeg.so", "libqgif.so", "libqico.so", "libqsvg.so"):
        assert (plugins / "imageformats" / plugin).is_file(), f"Qt image format plugin missing: {plugin}"


# ---------------------------------------------------------------------------------------------------
# the frozen binary, headless


def test_version(frozen_app, strace, home, tmp_path):
    run = run_traced(strace, frozen_app, ["--version"], home, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"Imago {main.__version__}"
    assert run.network_calls == []


def test_doctor_reports_a_working_cpu_provider(frozen_app, strace, home, tmp_path):
    run = run_traced(strace, frozen_app, ["doctor", "--json"], home, tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["imago"] == main.__version__
    cpu = [p for p in report["providers"] if p["provider"] == "CPUExecutionProvider"]
    assert cpu and cpu[0]["usable"], report["providers"]
    assert Path(report["paths"]["models"]).is_relative_to(home)
    assert run.network_calls == []

    text = run_traced(strace, frozen_app, ["doctor"], home, tmp_path)
    assert text.returncode == 0, text.stderr
    assert "CPUExecutionProvider: usable" in text.stdout


def test_shipped_image_model_indexes_and_tags_without_any_install(frozen_app, strace, home, tmp_path):
    bundled = frozen_app.internal / "resources" / "models" / "mobilenet-v2-imagenet"
    assert {"model.onnx", "labels.txt", "LICENSE-Apache-2.0.txt", "NOTICE"} <= {
        p.name for p in bundled.iterdir()
    }
    doctor = run_traced(strace, frozen_app, ["doctor"], home, tmp_path)
    assert doctor.returncode == 0 and "Shipped with Imago: mobilenet-v2-imagenet@1 (image)" in doctor.stdout
    archive = tmp_path / "photos"
    archive.mkdir()
    for image in sorted((ROOT / "resources" / "sample-archive" / "animals").glob("*.jpg")):
        shutil.copy2(image, archive / image.name)
    run = run_traced(strace, frozen_app, ["index", str(archive), "--no-caption", "--json"], home, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["failed"] == 0
    found = run_traced(
        strace, frozen_app, ["search", str(archive), "--text", "панда", "--json"], home, tmp_path
    )
    assert found.returncode == 0, found.stderr
    assert {Path(r["path"]).name.split("_")[0] for r in json.loads(found.stdout)["results"]} == {"panda"}
    assert run.network_calls == found.network_calls == []


def test_models_import_onnx_works_frozen(frozen_app, strace, home, tmp_path):
    from tiny_image_graphs import LABELS, write_uint8_nhwc_fixed

    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n")
    args = ["models", "import-onnx", str(write_uint8_nhwc_fixed(tmp_path / "tiny.onnx")), "--name", "tiny",
            "--embedding", "pool", "--scores", "probs", "--labels", str(labels)]  # fmt: skip
    run = run_traced(strace, frozen_app, args, home, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "installed tiny@1 (image)" in run.stdout
    assert (home / "models" / "tiny" / "manifest.json").is_file()


def test_bench_says_it_needs_a_source_checkout(frozen_app, strace, home, tmp_path):
    run = run_traced(strace, frozen_app, ["bench", "--quick"], home, tmp_path)
    assert run.returncode == 1, run.stderr
    assert run.stderr == (
        "imago: error: 'bench' needs a source checkout: the benchmarks are not part of the installed app\n"
    )
    assert run.network_calls == []


def test_classify_train_works_frozen(frozen_app, strace, home, tmp_path):
    """`classify train` writes its head with the `onnx` package, which the app ships for it."""
    shutil.copytree(ROOT / "tests" / "fixtures" / "models" / "clip-tiny", home / "models" / "clip-tiny")
    fixtures = ROOT / "tests" / "fixtures" / "images"
    images = sorted(p for p in fixtures.iterdir() if p.suffix in IMAGE_SUFFIXES)
    labels = tmp_path / "labels.csv"
    rows = [f"{p},{'architecture' if p.stem == 'pagoda' else 'object'}" for p in images]
    labels.write_text("path,label\n" + "\n".join(rows) + "\n")
    args = ["classify", "train", "--labels", str(labels), "--head", "category", "--json"]
    run = run_traced(strace, frozen_app, args, home, tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["metrics"]["examples"] == len(images) and report["metrics"]["classes"] == 2
    assert (home / "models" / "head-category-clip-tiny" / "head.onnx").is_file()
    classified = run_traced(strace, frozen_app, ["classify", str(images[0]), "--json"], home, tmp_path)
    assert classified.returncode == 0, classified.stderr
    assert json.loads(classified.stdout)[0]["heads"]["category"]["model"] == report["bundle"]
    assert run.network_calls == classified.network_calls == []


@pytest.mark.parametrize("extra_args", [[], ["--find-similar", "IMAGE"]], ids=["plain", "find-similar"])
def test_gui_starts_offscreen_and_quits_on_sigterm(frozen_app, strace, home, tmp_path, extra_args):
    image = tmp_path / "query.png"
    Image.new("RGB", (64, 48), (200, 40, 40)).save(image)
    args = ["--debug", *[str(image) if a == "IMAGE" else a for a in extra_args]]
    log = tmp_path / "strace-gui.log"
    proc = subprocess.Popen(
        strace_command(strace, log, [str(frozen_app.exe), *args]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=frozen_env(home),
        cwd=tmp_path,
    )
    try:
        seen = _read_until(proc, "GUI started", timeout_s=RUN_TIMEOUT_S)
        assert "GUI started" in seen, f"the GUI did not start:\n{seen}"
        assert proc.poll() is None, f"the GUI exited right after starting:\n{seen}"
        app_pid = traced_child(proc.pid)
        os.kill(app_pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = seen + rest.decode(errors="replace")
    assert proc.returncode == 0, f"exit code {proc.returncode}:\n{output}"
    assert "received SIGTERM" in output, output
    assert "Traceback" not in output, output
    assert (home / "logs" / "imago.log").is_file()
    assert network_calls(log) == []


def test_long_lived_gui_and_index_watch_open_no_connection(frozen_app, strace, home, tmp_path):
    """Over 30 s, as tests/integration/test_no_network.py does for the source tree."""
    watched, shown = tmp_path / "watched", tmp_path / "shown"
    _make_archive(watched)
    _make_archive(shown)
    env = frozen_env(home) | {"IMAGO_MODELS": str(ROOT / "tests" / "fixtures" / "models")}
    env = {k: v for k, v in env.items() if not k.startswith("ORT_")}
    sessions = run_long_lived(
        strace,
        {
            "index-watch": [str(frozen_app.exe), "index", str(watched), "--no-caption", "--watch", "--json"],
            "gui": [str(frozen_app.exe), "--debug", "gui", str(shown)],
        },
        env,
        tmp_path,
        while_running=lambda: Image.new("RGB", (90, 70), (12, 34, 56)).save(watched / "arrived.png"),
    )
    for session in sessions:
        assert session.returncode == 0, f"{session.name} exited with {session.returncode}:\n{session.output}"
        assert session.network_calls == [], f"{session.name} reached for the network: {session.network_calls}"
    index_watch = next(s for s in sessions if s.name == "index-watch")
    summaries = [json.loads(line) for line in index_watch.output.splitlines() if line.startswith("{")]
    assert len(summaries) == 2 and summaries[1]["indexed"] == 1, index_watch.output


def _read_until(proc: subprocess.Popen, marker: str, timeout_s: float) -> str:
    """Read the process's output until it contains `marker`, the process exits, or the time is up.

    Reads the pipe's file descriptor directly: a buffered readline could pull the marker line into
    Python's buffer while `select` keeps waiting for the descriptor.
    """
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while marker.encode() not in seen and time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


# ---------------------------------------------------------------------------------------------------
# features: whatever the source CLI implements must work frozen, with the same results


def _implemented(command: str) -> bool:
    commands = main.build_parser()._subparsers._group_actions[0].choices
    assert command in commands, f"the source CLI has no '{command}' command at all"
    return command not in main.PLANNED


def _fixture_bundles() -> list[Path]:
    models = ROOT / "tests" / "fixtures" / "models"
    return sorted(p for p in models.iterdir() if (p / "manifest.json").is_file()) if models.is_dir() else []


def _make_archive(root: Path) -> Path:
    """A small archive: the test fixture photographs plus generated drawings, in two folders."""
    photos, drawings = root / "photos", root / "drawings"
    photos.mkdir(parents=True)
    drawings.mkdir()
    for image in sorted((ROOT / "tests" / "fixtures" / "images").iterdir()):
        if image.suffix.lower() in IMAGE_SUFFIXES:
            shutil.copy2(image, photos / image.name)
    shapes = [("red-circle", (220, 30, 30)), ("green-square", (30, 180, 60)), ("blue-stripes", (40, 70, 220))]
    for name, colour in shapes:
        image = Image.new("RGB", (160, 120), (245, 242, 235))
        draw = ImageDraw.Draw(image)
        if "circle" in name:
            draw.ellipse((40, 20, 120, 100), fill=colour)
        elif "square" in name:
            draw.rectangle((40, 20, 120, 100), fill=colour)
        else:
            for x in range(0, 160, 20):
                draw.rectangle((x, 0, x + 9, 120), fill=colour)
        image.save(drawings / f"{name}.png")
    return root


def _image_paths(output: str, archive: Path) -> list[str]:
    """Image paths named in a command's output (text or JSON), relative to the archive, in order."""
    found = []
    for token in output.replace('"', " ").replace("'", " ").split():
        token = token.rstrip(",:;)]}")
        if token.lower().endswith(IMAGE_SUFFIXES):
            path = Path(token)
            found.append(str(path.relative_to(archive)) if path.is_absolute() else token)
    return found


def _scores(output: str) -> list[float]:
    """The scores of a `--json` result list, in order."""
    return [float(result["score"]) for result in json.loads(output)["results"]]


def _table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def _run_source(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = frozen_env(home)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
        cwd=cwd,
    )


def test_cli_features_work_frozen_as_from_source(frozen_app, strace, home, tmp_path):
    frozen_archive = _make_archive(tmp_path / "frozen" / "archive")
    source_archive = _make_archive(tmp_path / "source" / "archive")
    query_image = "drawings/red-circle.png"

    def check_planned(command: str, args: list[str]) -> None:
        run = run_traced(strace, frozen_app, [command, *args], home, tmp_path)
        assert run.returncode == 1 and "not available" in run.stderr, (command, run.stderr)
        assert run.network_calls == []

    # Model bundles: installed from the tiny fixtures, the way a curator would.
    bundles = _fixture_bundles()
    if _implemented("models"):
        assert bundles, "no tiny fixture bundles under tests/fixtures/models"
        for bundle in bundles:
            run = run_traced(strace, frozen_app, ["models", "install", str(bundle)], home, tmp_path)
            assert run.returncode == 0, run.stderr
            assert run.network_calls == []
        # No torch in the bundle: exporting must fail with the one-line error, not a traceback.
        export = ["models", "export", "clip", "openai/clip-vit-base-patch32", "--out", str(tmp_path / "x")]
        run = run_traced(strace, frozen_app, export, home, tmp_path)
        assert run.returncode == 1 and run.stderr.splitlines()[-1].startswith("imago: error:"), run.stderr
        assert "Traceback" not in run.stderr and run.network_calls == []
    else:
        check_planned("models", ["list"])
        for bundle in bundles:
            shutil.copytree(bundle, home / "models" / bundle.name)

    # index: same catalog contents (row count per table) as the source version.
    if _implemented("index"):
        assert bundles, "no tiny fixture bundles under tests/fixtures/models"
        frozen = run_traced(strace, frozen_app, ["index", str(frozen_archive), "--json"], home, tmp_path)
        assert frozen.returncode == 0, frozen.stderr
        assert frozen.network_calls == []
        source = _run_source(["index", str(source_archive), "--json"], home, tmp_path)
        assert source.returncode == 0, source.stderr
        frozen_db, source_db = (
            frozen_archive / ".imago" / "catalog.db",
            source_archive / ".imago" / "catalog.db",
        )
        assert frozen_db.is_file(), frozen.stdout
        assert _table_counts(frozen_db) == _table_counts(source_db)
    else:
        check_planned("index", [str(frozen_archive)])

    # search and similar: the same images in the same order as the source version.
    # (--all: the tiny random models score low; the relevance cut-off could hide every result.)
    ranked = ["--all", "--top", "10", "--json"]
    queries = {
        "search": lambda archive: [str(archive), "--text", "a red circle", *ranked],
        "similar": lambda archive: [str(archive), str(archive / query_image), *ranked],
    }
    for command, make_args in queries.items():
        if not _implemented(command):
            check_planned(command, make_args(frozen_archive))
            continue
        assert _implemented("index"), f"'{command}' landed before 'index'; this test needs an index"
        frozen = run_traced(strace, frozen_app, [command, *make_args(frozen_archive)], home, tmp_path)
        assert frozen.returncode == 0, frozen.stderr
        assert frozen.network_calls == []
        source = _run_source([command, *make_args(source_archive)], home, tmp_path)
        assert source.returncode == 0, source.stderr
        frozen_hits = _image_paths(frozen.stdout, frozen_archive)
        assert frozen_hits, f"'{command}' found nothing:\n{frozen.stdout}"
        assert frozen_hits == _image_paths(source.stdout, source_archive)
        frozen_scores, source_scores = _scores(frozen.stdout), _scores(source.stdout)
        assert frozen_scores == pytest.approx(source_scores, abs=1e-4)


def test_bundle_installs_itself_for_the_user(frozen_app, strace, tmp_path):
    """`dist/imago/install-linux` (shipped inside the bundle) installs a working `imago` command."""
    user_home = tmp_path / "user"
    data = user_home / ".local" / "share"
    env = {**frozen_env(user_home / "imago-home"), "HOME": str(user_home), "XDG_DATA_HOME": str(data)}
    installer = frozen_app.root / "install-linux"
    install = subprocess.run([str(installer)], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert install.returncode == 0, install.stderr
    command = user_home / ".local" / "bin" / "imago"
    assert command.resolve() == data / "imago-app" / "app" / "imago"
    run = run_traced(strace, FrozenApp(command.parent), ["--version"], user_home / "imago-home", tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"Imago {main.__version__}"
    uninstall = subprocess.run(
        [str(data / "imago-app" / "app" / "uninstall-linux")], env=env, capture_output=True, text=True
    )
    assert uninstall.returncode == 0, uninstall.stderr
    assert not command.is_symlink() and not (data / "imago-app").exists()
