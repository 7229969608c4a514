"""Imago: composition root and command-line interface.

`python main.py` (or the installed `imago`) starts the desktop app; subcommands run the same core
without Qt. Exit codes: 0 ok, 1 failure, 2 usage error. Errors are one line on stderr unless --debug.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import logging.handlers
import os
import platform
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from models.errors import ImagoError, InputError

__version__ = "0.1.0"

logger = logging.getLogger("imago")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(InputError):
    """A command line that cannot mean anything: exit 2, with the subcommand's usage."""


# ---------------------------------------------------------------------------------------------------
# argument types and checks made before anything is loaded

_MAX_ID = 2**63 - 1  # SQLite's INTEGER
_MAX_TOP = 100_000


def _whole_number(maximum: int, not_number: str, out_of_range: str):
    """An argparse type: a whole number from 1 to `maximum`. The messages are str.format templates
    of `text`, the argument as given."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(not_number.format(text=text)) from None
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(out_of_range.format(text=text))
        return value

    return parse


# --item: a catalog id (a whole number SQLite can hold); --top: how many results.
_item_id = _whole_number(
    _MAX_ID, "an item id is a whole number, not {text!r}", "no item can have the id {text}"
)
_top = _whole_number(
    _MAX_TOP,
    "--top takes a whole number, not {text!r}",
    f"--top takes a number from 1 to {_MAX_TOP}, not {{text}}",
)


def _text(text: str) -> str:
    """A text argument. Bytes that do not decode in the terminal's encoding reach Python as lone
    surrogates (PEP 383), which no tokenizer or SQLite string accepts: a usage error, said plainly."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        raise argparse.ArgumentTypeError(f"{raw!r} is not valid UTF-8 text") from None
    return text


def _archive_folder(archive: str) -> Path:
    """ARCHIVE, checked before any model or catalog is opened: an existing folder whose `.imago`,
    when there is one, is a folder."""
    from store.errors import ArchiveError
    from store.storage.archive import INDEX_DIR_NAME

    path = Path(archive)
    if not path.exists():
        raise ArchiveError(f"archive folder {archive} does not exist")
    if not path.is_dir():
        raise ArchiveError(f"{archive} is not a folder (give the archive folder)")
    index = path / INDEX_DIR_NAME
    if index.exists() and not index.is_dir():
        raise ArchiveError(
            f"{index} is a file, not Imago's index folder; move it aside (Imago keeps the index there)"
        )
    return path


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


def cmd_bench(args: argparse.Namespace) -> int:
    from benchmarks import harness

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    suites = {**harness.SUITES, "gui": "benchmarks.gui_suite:run"}
    records = harness.run(args.suites, quick=args.quick, progress=progress, suites=suites)
    if args.json:
        harness.write_json(records, Path(args.json))
    table = harness.to_markdown(records)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf-8")
    print(table)
    return EXIT_FAILURE if any(r.get("metric") == "failed" for r in records) else EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from models.loading import load_index_models
    from store import config
    from store.ingestion.indexer import Indexer
    from store.ingestion.subphotos import detect_subphotos
    from store.ingestion.watcher import ArchiveWatcher, watch
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog
    from store.storage.vector_index import VectorIndex

    archive = _archive_folder(args.archive)
    models_dir = Path(args.models) if args.models else config.models_dir()
    if (models_dir / "manifest.json").is_file():  # indexing needs the folder: CLIP, GIT and head bundles
        raise UsageError(f"{models_dir} is a bundle; pass the folder that holds bundles (--models DIR)")
    location = locate_index(archive)
    if location.fallback:
        print(f"imago: the archive is read-only; its index is kept in {location.path}", file=sys.stderr)
    settings = config.Settings.load()
    encoder, classifiers, captioner = load_index_models(
        models_dir, settings, captions=not args.no_caption, cache_dir=config.user_data_dir() / "cache"
    )
    line = _ProgressLine(sys.stderr)

    def report(summary) -> None:
        if args.json:
            print(json.dumps(summary.as_json(), ensure_ascii=False), flush=True)
        else:
            counts = summary.as_json()
            print(", ".join(f"{k} {v}" for k, v in counts.items() if k != "failures"), flush=True)
            for failure in summary.failures:
                print(f"  failed: {failure['path']}: {failure['error']}", flush=True)

    with Catalog(location.catalog_path) as catalog:
        vectors = VectorIndex.open(
            location.path, encoder.model_id, encoder.dim, catalog,
            dtype=settings.vector_dtype, connectivity=settings.vector_connectivity,
        )  # fmt: skip
        indexer = Indexer(
            location, catalog, encoder, classifiers=classifiers, captioner=captioner,
            region_detector=detect_subphotos, vector_index=vectors,
        )  # fmt: skip
        watcher = ArchiveWatcher(location.archive) if args.watch else None
        previous_handlers = {}
        if watcher is not None:
            # Ctrl+C (or SIGTERM) is how --watch is meant to end. The handler only sets flags: a
            # KeyboardInterrupt can land where it is swallowed (a finalizer, a callback) and leave
            # the process watching.
            def stop_watching(_signum, _frame) -> None:
                watcher.request_stop()
                indexer.cancel()

            for sig in (signal.SIGINT, signal.SIGTERM):
                previous_handlers[sig] = signal.signal(sig, stop_watching)
        try:
            if watcher is not None:
                watcher.start()  # before the first run, so changes made during it are not missed
            for progress in indexer.run(captions=captioner is not None):
                line.update(progress)
            line.close()
            report(indexer.summary)
            if watcher is not None:
                print(f"imago: watching {location.archive} (Ctrl+C to stop)", file=sys.stderr, flush=True)

                def run_done(summary) -> None:
                    line.close()
                    report(summary)

                captioning = captioner is not None
                for progress in watch(indexer, watcher, captions=captioning, on_run_done=run_done):
                    line.update(progress)
                line.close()
                print("imago: stopped watching", file=sys.stderr)
        finally:
            if watcher is not None:
                watcher.stop()
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)
    return EXIT_OK


class _ProgressLine:
    """A one-line progress bar redrawn with carriage returns, only on a terminal."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.width = 0

    def update(self, p) -> None:
        if not self.enabled:
            return
        if p.total:
            filled = int(30 * p.done / p.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {p.done}/{p.total}"
        else:
            bar = f"{p.done} files"
        current = (p.current or "")[-40:]
        text = f"{p.phase:<7} {bar} {p.rate:6.1f}/s errors {p.errors} {current}"
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\n")
            self.stream.flush()
        self.width = 0


def cmd_caption(args: argparse.Namespace) -> int:
    from models.captioner import caption_files, open_captioner
    from models.loading import session_options
    from store.config import Settings

    settings = Settings.load()
    captioner = open_captioner(
        _models_dir(args),
        args.model or settings.caption_model,
        session_options(settings),
        beams=args.beams if args.beams is not None else settings.caption_beams,
        max_tokens=args.max_tokens,
        explicit=args.model is not None,
    )
    results = caption_files(captioner, [Path(p) for p in args.images])
    if args.json:
        rows = [{"path": str(p), "caption": c.text, "token_ids": c.token_ids} for p, c in results]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for path, found in results:
            print(f"{path}\t{found.text}")
    return EXIT_OK


def _models_dir(args: argparse.Namespace, *, existing: bool = False) -> Path:
    """--models, else the installed models' folder. `existing`: a --models folder that is not there is
    an error (a mistyped path must not quietly mean "no models": Imago would use its built-in one)."""
    from store import config

    if not getattr(args, "models", None):
        return config.models_dir()
    folder = Path(args.models).expanduser()
    if existing and not folder.is_dir():
        raise ImagoError(f"model folder not found: {folder}")
    return folder


def _session_options():
    """onnxruntime options from the saved settings (device, threads)."""
    from models.loading import session_options
    from store.config import Settings

    return session_options(Settings.load())


def _bundle_summary(bundle) -> dict:
    return {
        "name": bundle.name,
        "version": bundle.version,
        "kind": bundle.kind,
        "model_id": bundle.model_id,
        "source": bundle.manifest.get("source"),
        "path": str(bundle.path),
        "files": sorted(bundle.manifest["files"]),
    }


def cmd_models(args: argparse.Namespace) -> int:
    from models import bundle as bundles

    models_dir = _models_dir(args)
    if args.action == "list":
        found = [_bundle_summary(b) for b in bundles.list_bundles(models_dir)]
        if args.json:
            print(json.dumps({"models_dir": str(models_dir), "bundles": found}, indent=2, ensure_ascii=False))
        elif not found:
            print(f"no model bundles in {models_dir}")
        for item in [] if args.json else found:
            print(f"{item['name']:<28} {item['kind']:<5} {item['version']:<8} {item['source']}")
        return EXIT_OK
    if args.action == "install":
        installed = bundles.install_bundle(Path(args.source), models_dir, replace=args.replace)
        print(f"installed {installed.model_id} ({installed.kind}) into {installed.path}")
        return EXIT_OK
    if args.action == "verify":
        targets = (
            [bundles.find_bundle(models_dir, kind, args.name) for kind in _kinds_named(models_dir, args.name)]
            if args.name
            else [bundles.load_bundle(p.parent) for p in sorted(models_dir.glob("*/manifest.json"))]
        )
        if not targets:
            raise ImagoError(f"no model bundles to verify in {models_dir}")
        for target in targets:
            bundles.verify_bundle(target)
            print(f"ok {target.model_id} ({len(target.manifest['files'])} files)")
        return EXIT_OK
    if args.action == "remove":
        removed = bundles.remove_bundle(models_dir, args.name)
        print(f"removed {removed}")
        return EXIT_OK
    if args.action == "embed":
        return _cmd_models_embed(args, models_dir)
    if args.action == "import-onnx":
        return _cmd_models_import_onnx(args, models_dir)
    return _cmd_models_export(args)


def _cmd_models_import_onnx(args: argparse.Namespace, models_dir: Path) -> int:
    """Make an image bundle of an ONNX file; install it unless --out names a folder for it."""
    import tempfile

    from models import bundle as bundles
    from models.onnx_import import ImportOptions, import_onnx

    def triple(text: str | None) -> tuple[float, float, float] | None:
        if text is None:
            return None
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 3:
            raise UsageError(f"--mean/--std take three numbers, not {text!r}")
        return (values[0], values[1], values[2])

    options = ImportOptions(
        name=args.name, embedding=args.embedding, scores=args.scores, scores_are=args.scores_are,
        labels=Path(args.labels) if args.labels else None, labels_offset=args.labels_offset,
        resize=args.resize, mean=triple(args.mean), std=triple(args.std), source=args.source or "",
        license=args.license or "see the license file",
        license_file=Path(args.license_file) if args.license_file else None,
        notice_file=Path(args.notice_file) if args.notice_file else None, version=args.version,
    )  # fmt: skip
    if args.out:
        made = import_onnx(Path(args.model), Path(args.out), options)
        print(f"wrote {made.model_id} ({made.manifest['image_model']['batch']} batch) to {made.path}")
        return EXIT_OK
    with tempfile.TemporaryDirectory(prefix="imago-import-") as tmp:
        made = import_onnx(Path(args.model), Path(tmp) / args.name, options)
        installed = bundles.install_bundle(made.path, models_dir, replace=args.replace)
    print(f"installed {installed.model_id} (image) into {installed.path}")
    return EXIT_OK


def _kinds_named(models_dir: Path, name: str) -> list[str]:
    from models import bundle as bundles

    if Path(name).is_dir():
        return [bundles.load_bundle(Path(name)).kind]
    kinds = [b.kind for b in bundles.list_bundles(models_dir) if name in (b.name, b.path.name, b.model_id)]
    if not kinds:
        raise ImagoError(f"no model bundle named {name!r} in {models_dir}")
    return kinds[:1]


def _cmd_models_embed(args: argparse.Namespace, models_dir: Path) -> int:
    from models import tasks

    bundle = tasks.resolve_clip_bundle(models_dir, args.bundle)
    options = _session_options()
    if args.image:
        quantized = {"auto": None, "fp32": False, "int8": True}[args.precision]
        model_id, vectors = tasks.embed_images(bundle, [Path(p) for p in args.image], options, quantized)
    else:
        model_id, vectors = tasks.embed_texts(bundle, args.text, options, tower=args.tower)
    if args.json:
        rows = [[float(v) for v in row] for row in vectors]
        print(json.dumps({"model": model_id, "dim": int(vectors.shape[1]), "vectors": rows}))
        return EXIT_OK
    inputs = args.image or args.text
    for source, row in zip(inputs, vectors, strict=True):
        head = " ".join(f"{v:+.4f}" for v in row[:6])
        print(f"{source}\t[{head} ...] ({model_id}, dim {vectors.shape[1]})")
    return EXIT_OK


def _cmd_models_export(args: argparse.Namespace) -> int:
    if args.family == "clip":
        from models.export.clip import export_clip_bundle

        bundle = export_clip_bundle(
            args.source,
            Path(args.out),
            text_model=args.text_model,
            quantize=args.quantize,
            tiny=args.tiny,
            name=args.name,
            default_precision=args.default_precision,
        )
    else:
        from models.export.git import export_git_bundle

        bundle = export_git_bundle(args.source, Path(args.out), tiny=args.tiny)
    print(f"exported {bundle.model_id} to {bundle.path}")
    return EXIT_OK


def _curator_examples(archive: Path, bundle, head: str):
    """(embeddings, labels) of the curator's `head` labels in ARCHIVE's catalogue, for `classify train`."""
    from models.clip import ClipImageEncoder
    from store.services.curation import CurationService

    _, catalog = _open_catalog(str(archive))
    with catalog:
        return CurationService(catalog).training_examples(head, ClipImageEncoder(bundle).model_id)


def cmd_classify(args: argparse.Namespace) -> int:
    from models import tasks
    from store import config

    if not args.items:
        raise UsageError("give one or more image files to classify (or 'train')")
    if args.items[0] == "train" and len(args.items) > 1:
        raise UsageError("'classify train' takes --labels CSV, --embeddings NPZ or --archive, not images")
    models_dir = _models_dir(args)
    options = _session_options()
    if args.items[0] != "train" and args.model is None:
        from models.loading import image_model_bundle

        image_model = image_model_bundle(models_dir)
        if image_model.kind == "image":  # no CLIP: the image model's own classes
            return _print_classified(
                tasks.label_images(image_model, [Path(p) for p in args.items], args.top, options), args.json
            )
    bundle = tasks.resolve_clip_bundle(models_dir, args.model)
    if args.items[0] == "train":
        head = tasks.train_head(
            models_dir,
            bundle,
            args.head or "category",
            labels_csv=Path(args.labels) if args.labels else None,
            embeddings_file=Path(args.embeddings) if args.embeddings else None,
            name=args.name,
            holdout=args.holdout,
            options=options,
            examples=_curator_examples(Path(args.archive), bundle, args.head or "category")
            if args.archive
            else None,
        )
        metrics = head.manifest["metrics"]
        if args.json:
            print(json.dumps({"bundle": head.model_id, "path": str(head.path), "metrics": metrics}, indent=2))
        else:
            accuracy = metrics.get("heldout_accuracy")
            shown = "n/a (too few examples per label)" if accuracy is None else f"{accuracy:.3f}"
            print(
                f"trained {head.manifest['head']} head {head.model_id}: {metrics['examples']} examples, "
                f"{metrics['classes']} labels, held-out accuracy {shown} on {metrics['heldout_examples']}"
            )
        return EXIT_OK
    results = tasks.classify_images(
        models_dir,
        bundle,
        [Path(p) for p in args.items],
        args.head,
        args.top,
        options,
        Path(args.vocabularies) if args.vocabularies else None,
        config.user_data_dir() / "cache",
    )
    return _print_classified(results, args.json)


def _print_classified(results: list[dict], as_json: bool) -> int:
    if as_json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return EXIT_OK
    for result in results:
        print(result["image"])
        for head_name, ranked in result["heads"].items():
            print(f"  {head_name}: " + ", ".join(f"{label} {prob:.2f}" for label, prob in ranked["top"]))
    return EXIT_OK


def _search_service(args: argparse.Namespace, *, text: bool, required: bool):
    """A SearchService on ARCHIVE with the image model (an installed or --models CLIP bundle, else the
    image model shipped with Imago) and, with CLIP, its text tower; without any model, `required`
    raises and otherwise the service runs model-free (keywords, --item)."""
    from models.errors import BundleError
    from models.loading import load_search_encoders
    from store.config import Settings
    from store.services.search import SearchService

    image_encoder = text_encoder = None
    try:
        image_encoder, text_encoder = load_search_encoders(_models_dir(args, existing=True), Settings.load())
    except BundleError as exc:
        if required:
            raise
        logger.warning("%s; searching without an image model", exc)
    if text_encoder is None and text:
        logger.info("no CLIP bundle: text search matches names, tags, captions and descriptions only")
    return SearchService.open(
        Path(args.archive), image_encoder=image_encoder, text_encoder=text_encoder if text else None
    )


def _print_results(found, as_json: bool) -> None:
    if as_json:
        print(json.dumps(found.as_json(), ensure_ascii=False))
        return
    for result in found.results:
        region = " [" + ",".join(str(v) for v in result.region) + "]" if result.region else ""
        print(f"{result.score:8.4f}  #{result.item_id}  {result.path}{region}")
        for reason in result.why:
            print(f"          {reason}")
    if not found.results:
        print("no results")
    if found.more:
        print("more results exist (--all: no relevance cut-off; --top N: more of them)", file=sys.stderr)


def _search_filter(args: argparse.Namespace):
    """SearchFilter from --folder/--category/--since/--until/--date/--has-caption/--confirmed/--order
    (days are UTC; --until includes its whole day)."""
    import datetime as dt

    from store.services.search import SearchFilter

    # File dates are nanoseconds in a 64-bit integer (years 1677 to 2262): a day beyond them (the
    # calendar runs from 0001-01-01 to 9999-12-31) is the same filter as that range's end.
    limit = 9_223_372_036 if args.date == "file" else float("inf")

    def day(text: str | None, end: bool) -> float | None:
        if text is None:
            return None
        try:
            start = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC).timestamp()
        except ValueError:
            raise UsageError(f"a date is YYYY-MM-DD, not {text!r}") from None
        return min(max(start + 86_399.999 if end else start, -limit), limit)

    return SearchFilter(
        folder=args.folder, category=args.category, since=day(args.since, False), until=day(args.until, True),
        has_caption=args.has_caption, confirmed=args.confirmed, order=args.order, date=args.date,
    )  # fmt: skip


def cmd_search(args: argparse.Namespace) -> int:
    _archive_folder(args.archive)
    filters = _search_filter(args)
    with _search_service(args, text=True, required=False) as service:
        found = service.search_text(args.text, top=args.top, all=args.all, filters=filters)
    _print_results(found, args.json)
    return EXIT_OK


def _query_image(archive: Path, image: str) -> tuple[Path, str | None]:
    """The query file, and its archive-relative path when IMAGE is one (as `search` prints them): a
    relative IMAGE that does not exist from the current folder but does inside ARCHIVE."""
    given = Path(image)
    if not given.is_absolute() and not os.path.lexists(given) and os.path.lexists(archive / given):
        path = archive / given
        inside = given.as_posix()
    else:
        path, inside = given, None
    try:
        info = os.stat(path)  # the type before opening: reading a FIFO blocks, /dev/zero never ends
    except FileNotFoundError:
        raise InputError(f"image file not found: {image}") from None
    except OSError as exc:
        raise InputError(f"cannot read {image}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{image} is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "a device"
        )
        raise InputError(f"{image} is not a regular file ({kind})")
    from store.ingestion.decoder import MAX_READ_BYTES

    if info.st_size > MAX_READ_BYTES:
        raise InputError(
            f"{image} is too large for a query image ({info.st_size / 2**20:.0f} MiB, at most "
            f"{MAX_READ_BYTES / 2**20:.0f} MiB)"
        )
    return path, inside


def _indexed_item(catalog, relative: str) -> int | None:
    """The visible whole-file item of an archive-relative path, or None when it is not indexed."""
    file_id = catalog.file_id(os.fsencode(relative))
    if file_id is None:
        return None
    items = [i.id for i in catalog.items(file_id) if i.kind == "file" and not i.hidden]
    return items[0] if items else None


def cmd_similar(args: argparse.Namespace) -> int:
    from store.services.search import parse_bbox

    archive = _archive_folder(args.archive)
    if (args.image is None) == (args.item is None):
        raise UsageError("give either an IMAGE file or --item ID")
    bbox = parse_bbox(args.region) if args.region else None
    image, inside = _query_image(archive, args.image) if args.image is not None else (None, None)
    duplicates = "hide" if args.hide_duplicates else "group"
    options = dict(top=args.top, all=args.all, duplicates=duplicates, filters=_search_filter(args))
    pixels = bbox is not None or (image is not None and inside is None)  # needs the image model
    with _search_service(args, text=False, required=pixels) as service:
        # An indexed archive file is queried as its item: its stored vector, and not itself in the results.
        item = args.item if inside is None else _indexed_item(service.catalog, inside)
        if item is None:
            found = service.similar_to_image(image, bbox=bbox, **options)
        elif bbox is not None:
            found = service.similar_to_region(item, bbox, **options)
        else:
            found = service.similar_to_item(item, **options)
    _print_results(found, args.json)
    return EXIT_OK


def _open_catalog(archive: str):
    from store.errors import ArchiveError
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    location = locate_index(_archive_folder(archive), create=False)
    if not location.catalog_path.is_file():
        raise ArchiveError(f"{archive} has not been indexed yet (no {location.catalog_path})")
    return location, Catalog(location.catalog_path)


def cmd_export(args: argparse.Namespace) -> int:
    from store.services import export

    location, catalog = _open_catalog(args.archive)
    with catalog:
        export.check_out_path(Path(args.out), location.archive)
        index = export.open_vector_index(catalog, location.path)
        rows = export.export_items(catalog, index, args.selection)
        if args.format == "csv":
            count = export.write_csv(rows, Path(args.out))
        else:
            count = export.write_json(rows, Path(args.out), location.archive.name)
    print(f"exported {count} items to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from store.services import export

    _archive_folder(args.archive)
    rows = export.read_import(Path(args.file))  # read row by row while importing
    _, catalog = _open_catalog(args.archive)
    with catalog:
        report = export.import_curator_fields(catalog, rows)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(f"applied {report.applied}, unchanged {report.unchanged}, rejected {report.rejected_count}, "
              f"unmatched {report.unmatched_count}")  # fmt: skip
        for problems, count, what in (
            (report.rejected, report.rejected_count, "rejected"),
            (report.unmatched, report.unmatched_count, "unmatched"),
        ):
            for problem in problems:
                print(f"  row {problem.row}: {what}: {problem.reason}")
            if count > len(problems):
                print(f"  ... and {count - len(problems)} more {what} rows")
    if report.error is not None:
        print(f"imago: error: {report.error}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_FAILURE


def cmd_duplicates(args: argparse.Namespace) -> int:
    from store.services import duplicates
    from store.services.export import open_vector_index
    from store.storage.thumbnails import ThumbnailCache

    _archive_folder(args.archive)
    model_id = None
    if args.models and not args.exact_only:  # compare the vectors of that folder's image model
        from models.loading import load_search_encoders
        from store.config import Settings

        model_id = load_search_encoders(_models_dir(args, existing=True), Settings.load())[0].model_id
    location, catalog = _open_catalog(args.archive)
    options = {}
    if args.min_cosine is not None:
        options["min_cosine"] = args.min_cosine
    if args.max_hamming is not None:
        options["max_hamming"] = args.max_hamming
    with catalog:
        groups = duplicates.find_duplicates(
            catalog, None if args.exact_only else open_vector_index(catalog, location.path, model_id),
            location.archive,
            thumbnails=ThumbnailCache(location.thumbnails_dir), **options,
        )  # fmt: skip
    if args.json:
        print(json.dumps({"groups": [g.as_json() for g in groups]}, ensure_ascii=False))
        return EXIT_OK
    for group in groups:
        print(f"{group.kind} ({len(group.members)} files)")
        for member in group.members:
            print(f"  {member.score:.4f}  #{member.item_id}  {member.path}")
    if not groups:
        print("no duplicates found")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from models.image_model import ImageModelEncoder
    from models.loading import image_model_bundle
    from store.services import evaluation

    if (args.split_file is None) != (args.query_file is None):
        raise UsageError("give both --split-file and --query-file, or neither")
    dataset = Path(args.dataset)
    gallery = queries = None
    if args.split_file:
        gallery = evaluation.read_list(dataset, Path(args.split_file))
        queries = evaluation.read_list(dataset, Path(args.query_file))
    bundle = image_model_bundle(_models_dir(args, existing=True))  # CLIP when installed, else the image model
    options = _session_options()
    if bundle.kind == "clip":
        image_encoder, text_encoder = (
            ClipImageEncoder(bundle, options),
            ClipTextEncoder(bundle, options, tower="clip"),
        )
    else:
        image_encoder, text_encoder = ImageModelEncoder(bundle, options), None

    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr, flush=True)

    report = evaluation.evaluate(
        dataset, image_encoder, text_encoder,
        gallery=gallery, queries=queries, limit=args.limit, train_head=not args.no_head, progress=progress,
    )  # fmt: skip
    print(file=sys.stderr)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.json == "-":
        print(text)
        return EXIT_OK
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(evaluation.to_table(report))
    return EXIT_OK


def _add_search_parsers(sub, common: argparse.ArgumentParser) -> None:
    """`search` and `similar` subcommands (store/services/search.py)."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    shared.add_argument("--top", type=_top, default=20, help="at most this many results (default 20)")
    shared.add_argument("--all", action="store_true", help="no relevance cut-off: the best N, whatever")
    shared.add_argument("--json", action="store_true", help='print {"results": [...]} as JSON')
    shared.add_argument("--models", metavar="DIR", help="model bundle folder (default: the installed models)")
    shared.add_argument(
        "--folder", type=_text, metavar="DIR", help="only this archive folder and its subfolders"
    )
    shared.add_argument("--category", type=_text, metavar="LABEL", help="only items with this category")
    shared.add_argument("--since", metavar="YYYY-MM-DD", help="only files dated on or after this day")
    shared.add_argument("--until", metavar="YYYY-MM-DD", help="only files dated on or before this day")
    shared.add_argument(
        "--date", choices=("file", "taken"), default="file",
        help="the date --since/--until and --order date use: file modification time (default) or the "
        "EXIF date the photo was taken",
    )  # fmt: skip
    shared.add_argument("--has-caption", action="store_true", default=None, help="only items with a caption")
    shared.add_argument("--confirmed", action="store_true", default=None, help="only curator-labelled items")
    shared.add_argument("--order", choices=("relevance", "date"), default="relevance", help="result order")

    search = sub.add_parser("search", parents=[common, shared], help="search an indexed archive by text")
    search.add_argument(
        "--text", type=_text, required=True, metavar="TEXT", help="what to look for (any language)"
    )
    search.set_defaults(handler=cmd_search)

    similar = sub.add_parser(
        "similar", parents=[common, shared], help="find images similar to an image file or indexed item"
    )
    similar.add_argument(
        "image", nargs="?", metavar="IMAGE",
        help="query image file (not added), or a path inside ARCHIVE as search prints it",
    )  # fmt: skip
    similar.add_argument("--item", type=_item_id, metavar="ID", help="query by indexed item id instead")
    similar.add_argument("--region", metavar="X,Y,W,H", help="only this rectangle of the query image")
    similar.add_argument(
        "--hide-duplicates", action="store_true", help="leave out files with the same content as the query"
    )
    similar.set_defaults(handler=cmd_similar)

    export = sub.add_parser("export", parents=[common], help="export an archive's catalogue as JSON or CSV")
    export.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    export.add_argument("--format", choices=("json", "csv"), default="json", help="default json")
    export.add_argument(
        "--selection", type=_text, metavar="QUERY", help="only items matching all these keywords"
    )
    export.add_argument("--out", required=True, metavar="FILE", help="file to write")
    export.set_defaults(handler=cmd_export)

    imports = sub.add_parser(
        "import", parents=[common], help="import curator edits from an exported JSON or CSV file"
    )
    imports.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    imports.add_argument("file", metavar="FILE", help="JSON or .csv written by 'export' (edited)")
    imports.add_argument("--json", action="store_true", help="print the report as JSON")
    imports.set_defaults(handler=cmd_import)

    dups = sub.add_parser("duplicates", parents=[common], help="list exact and near-duplicate groups")
    dups.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    dups.add_argument("--json", action="store_true", help='print {"groups": [{"kind", "items"}]} as JSON')
    dups.add_argument("--exact-only", action="store_true", help="only byte-identical copies")
    dups.add_argument(
        "--models", metavar="DIR", help="model bundle folder or CLIP bundle whose vectors to compare "
        "(default: the model with the most vectors in the archive)",
    )  # fmt: skip
    dups.add_argument("--min-cosine", type=float, help="image similarity for near duplicates (default 0.92)")
    dups.add_argument("--max-hamming", type=int, help="perceptual hash bits that may differ (default 10)")
    dups.set_defaults(handler=cmd_duplicates)

    ev = sub.add_parser("eval", parents=[common], help="evaluate search and classification")
    ev.add_argument("dataset", metavar="DATASET", help="folder with one sub-folder per class")
    ev.add_argument("--split-file", metavar="FILE", help="gallery images, one relative path per line")
    ev.add_argument("--query-file", metavar="FILE", help="query images, one relative path per line")
    ev.add_argument("--limit", type=int, metavar="N", help="at most N images per class in each list")
    ev.add_argument("--no-head", action="store_true", help="skip training a linear head")
    ev.add_argument("--models", metavar="DIR", help="model bundle folder or CLIP bundle")
    ev.add_argument("--json", metavar="OUT", nargs="?", const="-", help="JSON report to OUT (- = stdout)")
    ev.set_defaults(handler=cmd_eval)


def _not_available(name: str):
    def handler(args: argparse.Namespace) -> int:
        raise ImagoError(f"'{name}' is not available in this version of Imago yet")

    return handler


# ---------------------------------------------------------------------------------------------------
# argument parsing

PLANNED: dict[str, str] = {}  # subcommands announced but not built yet: name -> help


def _add_model_parsers(sub, common: argparse.ArgumentParser) -> None:
    """`models ...` and `classify ...` subcommands."""
    models_opt = argparse.ArgumentParser(add_help=False)
    models_opt.add_argument(
        "--models", metavar="DIR", help="model bundle folder (default: IMAGO_MODELS or user data)"
    )

    models = sub.add_parser("models", parents=[common], help="list, install, verify, export model bundles")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common, models_opt], help="list installed bundles")
    listing.add_argument("--json", action="store_true", help="print JSON")
    install = actions.add_parser(
        "install", parents=[common, models_opt], help="install a bundle folder or zip"
    )
    install.add_argument("source", metavar="PATH_OR_ZIP")
    install.add_argument(
        "--replace", action="store_true", help="replace an installed bundle of the same name"
    )
    verify = actions.add_parser("verify", parents=[common, models_opt], help="check the hashes of bundles")
    verify.add_argument("name", nargs="?", metavar="NAME", help="bundle name or folder (default: all)")
    remove = actions.add_parser("remove", parents=[common, models_opt], help="delete an installed bundle")
    remove.add_argument("name", metavar="NAME")
    embed = actions.add_parser(
        "embed", parents=[common, models_opt], help="print embeddings of images or texts"
    )
    embed.add_argument("bundle", metavar="NAME_OR_DIR", help="CLIP bundle name or folder")
    what = embed.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", nargs="+", metavar="FILE", help="image files")
    what.add_argument(
        "--text", type=_text, nargs="+", metavar="TEXT", help="texts (any language the bundle supports)"
    )
    embed.add_argument("--tower", choices=("auto", "clip", "multilingual"), default="auto", help="text tower")
    embed.add_argument("--precision", choices=("auto", "fp32", "int8"), default="auto", help="image tower")
    embed.add_argument("--json", action="store_true", help='print {"model", "dim", "vectors"} as JSON')
    onnx_import = actions.add_parser(
        "import-onnx", parents=[common, models_opt], help="make an image-model bundle of an ONNX image model"
    )
    onnx_import.add_argument("model", metavar="MODEL.onnx")
    onnx_import.add_argument("--name", required=True, help="bundle name")
    onnx_import.add_argument(
        "--embedding", required=True, metavar="TENSOR", help="embedding tensor (may be intermediate)"
    )
    onnx_import.add_argument("--scores", metavar="TENSOR", help="class scores tensor (needs --labels)")
    onnx_import.add_argument("--scores-are", choices=("probabilities", "logits"), default="probabilities")
    onnx_import.add_argument("--labels", metavar="FILE", help="labels file, one per line, in score order")
    onnx_import.add_argument("--labels-offset", type=int, metavar="N", help="scores before the first label")
    onnx_import.add_argument("--resize", type=int, metavar="PX", help="short side before the centre crop")
    onnx_import.add_argument("--mean", metavar="R,G,B", help="pixel mean (0..1 scale for float input)")
    onnx_import.add_argument("--std", metavar="R,G,B", help="pixel standard deviation")
    onnx_import.add_argument("--source", help="where the weights come from (written to the manifest)")
    onnx_import.add_argument("--license", help="licence name (written to the manifest)")
    onnx_import.add_argument("--license-file", metavar="FILE", help="licence text shipped in the bundle")
    onnx_import.add_argument("--notice-file", metavar="FILE", help="NOTICE shipped in the bundle")
    onnx_import.add_argument("--version", default="1", help="bundle version (default 1)")
    onnx_import.add_argument("--out", metavar="DIR", help="write the bundle here instead of installing it")
    onnx_import.add_argument(
        "--replace", action="store_true", help="replace an installed bundle of that name"
    )
    export = actions.add_parser("export", parents=[common], help="export a Hugging Face model to a bundle")
    families = export.add_subparsers(dest="family", metavar="FAMILY", required=True)
    clip = families.add_parser("clip", parents=[common], help="CLIP image + text towers")
    clip.add_argument(
        "source", metavar="SRC", help="HF id or checkpoint folder (--tiny: CLIP BPE file/folder)"
    )
    clip.add_argument("--out", required=True, metavar="DIR", help="output bundle folder (new or empty)")
    clip.add_argument("--text-model", metavar="SRC2", help="multilingual sentence-transformers text model")
    clip.add_argument("--quantize", choices=("int8",), help="also write an int8 image tower")
    clip.add_argument(
        "--default-precision", choices=("fp32", "int8"), default="fp32", help="image tower used by default"
    )
    clip.add_argument("--tiny", action="store_true", help="tiny randomly initialised models (tests)")
    clip.add_argument("--name", help="bundle name (default from SRC)")
    git = families.add_parser("git", parents=[common], help="GIT captioner")
    git.add_argument("source", metavar="SRC", help="HF id or checkpoint folder")
    git.add_argument("--out", required=True, metavar="DIR", help="output bundle folder")
    git.add_argument(
        "--tiny", nargs="?", const="base", metavar="SIZE", help="tiny random model shaped like SIZE"
    )
    models.set_defaults(handler=cmd_models)

    classify = sub.add_parser(
        "classify",
        parents=[common, models_opt],
        help="top categories and names for images",
        description="classify IMAGE... prints the top labels per head; classify train --labels CSV "
        "(path,label rows) or --embeddings NPZ (embeddings, labels) fits a linear head.",
    )
    classify.add_argument("items", nargs="*", metavar="IMAGE", help="image files, or 'train'")
    classify.add_argument("--head", choices=("category", "name"), help="only this head (train: which head)")
    classify.add_argument("--top", type=int, default=5, help="labels per head (default 5)")
    classify.add_argument("--model", metavar="NAME_OR_DIR", help="CLIP bundle (default: the installed one)")
    classify.add_argument("--vocabularies", metavar="DIR", help="folder with categories.json / names.json")
    classify.add_argument("--json", action="store_true", help="print JSON")
    classify.add_argument("--labels", metavar="CSV", help="train: path,label rows")
    classify.add_argument("--embeddings", metavar="NPZ", help="train: stored embeddings and labels")
    classify.add_argument(
        "--archive", metavar="ARCHIVE", help="train: the curator's labels in this indexed archive"
    )
    classify.add_argument("--name", help="train: head bundle name")
    classify.add_argument("--holdout", type=float, default=0.2, help="train: held-out fraction (default 0.2)")
    classify.set_defaults(handler=cmd_classify)


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

    index = sub.add_parser("index", parents=[common], help="index an archive folder")
    index.add_argument("archive", help="archive folder to index")
    index.add_argument("--models", metavar="DIR", help="model bundle folder (default: the installed models)")
    index.add_argument("--no-caption", action="store_true", help="skip generating descriptions")
    index.add_argument("--watch", action="store_true", help="keep indexing changes until interrupted")
    index.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    index.set_defaults(handler=cmd_index)

    caption = sub.add_parser("caption", parents=[common], help="generate descriptions for images")
    caption.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    caption.add_argument("--model", metavar="NAME_OR_DIR", help="GIT bundle name or folder")
    caption.add_argument("--beams", type=int, help="beam width (1 = greedy; default: setting)")
    caption.add_argument("--max-tokens", type=int, default=20, help="new tokens per caption (default 20)")
    caption.add_argument("--json", action="store_true", help='print [{"path", "caption", "token_ids"}]')
    caption.add_argument("--models", metavar="DIR", help="model bundle folder (default: installed models)")
    caption.set_defaults(handler=cmd_caption)

    _add_model_parsers(sub, common)
    _add_search_parsers(sub, common)

    # `restore`: put back one of the catalog backups kept under .imago/backups/ (store.storage.backup).
    def cmd_restore(args: argparse.Namespace) -> int:
        from store.storage import backup
        from store.storage.archive import locate_index

        location = locate_index(Path(args.archive), create=False)
        if args.list:
            found = backup.list_backups(location.catalog_path)
            for item in found:
                print(item.describe())
            if not found:
                print(f"no backups in {backup.backups_dir(location.catalog_path)}", file=sys.stderr)
            return EXIT_OK
        done = backup.restore(location.catalog_path, args.source, archive=location.archive)
        print(f"restored {done.catalog} from {done.restored.name}")
        if done.previous is not None:
            print(f"the catalog it replaced is kept as {done.previous}")
        return EXIT_OK

    restore = sub.add_parser(
        "restore", parents=[common], help="restore the archive's catalog from a backup",
        description="Replace ARCHIVE's catalog with a backup from .imago/backups/ (the newest, or --from "
        "NAME); the current catalog is kept as another backup. Close Imago on the archive first.",
    )  # fmt: skip
    restore.add_argument("archive", help="archive folder")
    restore.add_argument("--list", action="store_true", help="list the backups, newest first")
    restore.add_argument("--from", dest="source", metavar="NAME", help="backup file name (see --list)")
    restore.set_defaults(handler=cmd_restore)

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
        return _failed(args, str(exc))
    except KeyboardInterrupt:
        print("imago: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # disk full, read-only or unreadable files: one line, not a traceback
        return _failed(args, _os_error_text(exc))
    except sqlite3.Error as exc:
        return _failed(args, _catalog_error_text(exc))
    except Exception as exc:  # a bug: still one line (the traceback with --debug)
        return _failed(args, f"unexpected {type(exc).__name__}: {exc} (--debug shows the details)")


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


def _failed(args: argparse.Namespace, message: str) -> int:
    if args.debug:
        logger.exception("failed")
    print(f"imago: error: {message}", file=sys.stderr)
    return EXIT_FAILURE


def _os_error_text(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full{where}; free some space and run the command again"
    if exc.errno == errno.EROFS:
        return f"the file system is read-only{where}"
    return f"{exc.strerror or exc}{where}"


def _catalog_error_text(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return f"the archive's catalog cannot be written: it is read-only ({text})"
    if "disk is full" in text or getattr(exc, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return f"the disk is full ({text}); free some space and run the command again"
    if "locked" in text or "busy" in text:
        return f"the archive's catalog is busy: another Imago is writing it ({text})"
    return f"the archive's catalog: {text}"


if __name__ == "__main__":
    sys.exit(main())
