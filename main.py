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
import signal
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

    from models.bundle import list_bundles
    from models.session import probe_providers
    from store import config
    from store.archive import fallback_root

    models = config.models_dir()
    bundles = [f"{b.model_id} ({b.kind})" for b in list_bundles(models)]  # broken ones are logged
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
    from store.bench import harness

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    suites = {**harness.SUITES, "gui": "desktop.bench:run"}
    records = harness.run(args.suites, quick=args.quick, progress=progress, suites=suites)
    if args.json:
        harness.write_json(records, Path(args.json))
    table = harness.to_markdown(records)
    if args.markdown:
        Path(args.markdown).write_text(table, encoding="utf-8")
    print(table)
    return EXIT_FAILURE if any(r.get("metric") == "failed" for r in records) else EXIT_OK


def cmd_index(args: argparse.Namespace) -> int:
    from store import config
    from store.archive import locate_index
    from store.catalog import Catalog
    from store.engine import load_index_models, region_detector
    from store.indexer import Indexer
    from store.vector_index import VectorIndex
    from store.watcher import ArchiveWatcher, watch

    location = locate_index(Path(args.archive))
    if location.fallback:
        print(f"imago: the archive is read-only; its index is kept in {location.path}", file=sys.stderr)
    models_dir = Path(args.models) if args.models else config.models_dir()
    settings = config.Settings.load()
    encoder, classifiers, captioner = load_index_models(models_dir, settings, captions=not args.no_caption)
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
            region_detector=region_detector(), vector_index=vectors,
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
    from store.config import Settings
    from store.engine import session_options

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


def _models_dir(args: argparse.Namespace) -> Path:
    from store import config

    return Path(args.models).expanduser() if getattr(args, "models", None) else config.models_dir()


def _session_options():
    """onnxruntime options from the saved settings (device, threads)."""
    from store.config import Settings
    from store.engine import session_options

    return session_options(Settings.load())


def _clip_bundle(models_dir: Path):
    """The CLIP bundle: `models_dir` itself when it is a bundle folder, else the one installed in it."""
    from models.bundle import find_bundle, load_bundle

    return (
        load_bundle(models_dir)
        if (models_dir / "manifest.json").is_file()
        else find_bundle(models_dir, "clip")
    )


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
    return _cmd_models_export(args)


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
        from models.clip_export import export_clip_bundle

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
        from models.git_export import export_git_bundle

        bundle = export_git_bundle(args.source, Path(args.out), tiny=args.tiny)
    print(f"exported {bundle.model_id} to {bundle.path}")
    return EXIT_OK


def _curator_examples(archive: Path, bundle, head: str):
    """(embeddings, labels) of the curator's `head` labels in ARCHIVE's catalogue, for `classify train`."""
    from models.clip import ClipImageEncoder
    from store.curation import CurationService

    _, catalog = _open_catalog(str(archive))
    with catalog:
        return CurationService(catalog).training_examples(head, ClipImageEncoder(bundle).model_id)


def cmd_classify(args: argparse.Namespace) -> int:
    from models import tasks
    from store import config

    if not args.items:
        raise ImagoError("give one or more image files to classify (or 'train')")
    models_dir = _models_dir(args)
    bundle = tasks.resolve_clip_bundle(models_dir, args.model)
    options = _session_options()
    if args.items[0] == "train":
        if len(args.items) > 1:
            raise ImagoError("'classify train' takes --labels CSV, --embeddings NPZ or --archive, not images")
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
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return EXIT_OK
    for result in results:
        print(result["image"])
        for head_name, ranked in result["heads"].items():
            print(f"  {head_name}: " + ", ".join(f"{label} {prob:.2f}" for label, prob in ranked["top"]))
    return EXIT_OK


def _search_service(args: argparse.Namespace, *, text: bool, required: bool):
    """A SearchService on ARCHIVE with the installed (or --models) CLIP bundle's encoders; without
    a bundle, `required` raises and otherwise the service runs model-free (keywords, --item)."""
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from models.errors import BundleError
    from store.search import SearchService

    image_encoder = text_encoder = None
    models_dir = _models_dir(args)
    try:
        bundle = _clip_bundle(models_dir)
        options = _session_options()
        image_encoder = ClipImageEncoder(bundle, options)
        text_encoder = ClipTextEncoder(bundle, options) if text else None
    except BundleError as exc:
        if required:
            raise
        logger.warning("%s; searching without the CLIP model", exc)
    return SearchService.open(Path(args.archive), image_encoder=image_encoder, text_encoder=text_encoder)


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

    from models.errors import InputError
    from store.search import SearchFilter

    def day(text: str | None, end: bool) -> float | None:
        if text is None:
            return None
        try:
            start = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC).timestamp()
        except ValueError:
            raise InputError(f"a date is YYYY-MM-DD, not {text!r}") from None
        return start + 86_399.999 if end else start

    return SearchFilter(
        folder=args.folder, category=args.category, since=day(args.since, False), until=day(args.until, True),
        has_caption=args.has_caption, confirmed=args.confirmed, order=args.order, date=args.date,
    )  # fmt: skip


def cmd_search(args: argparse.Namespace) -> int:
    filters = _search_filter(args)
    with _search_service(args, text=True, required=False) as service:
        found = service.search_text(args.text, top=args.top, all=args.all, filters=filters)
    _print_results(found, args.json)
    return EXIT_OK


def cmd_similar(args: argparse.Namespace) -> int:
    from store.search import parse_bbox

    if (args.image is None) == (args.item is None):
        raise ImagoError("give either an IMAGE file or --item ID")
    bbox = parse_bbox(args.region) if args.region else None
    duplicates = "hide" if args.hide_duplicates else "group"
    options = dict(top=args.top, all=args.all, duplicates=duplicates, filters=_search_filter(args))
    with _search_service(args, text=False, required=args.image is not None or bbox is not None) as service:
        if args.image is not None:
            found = service.similar_to_image(Path(args.image), bbox=bbox, **options)
        elif bbox is not None:
            found = service.similar_to_region(args.item, bbox, **options)
        else:
            found = service.similar_to_item(args.item, **options)
    _print_results(found, args.json)
    return EXIT_OK


def _open_catalog(archive: str):
    from store.archive import locate_index
    from store.catalog import Catalog
    from store.errors import ArchiveError

    location = locate_index(Path(archive), create=False)
    if not location.catalog_path.is_file():
        raise ArchiveError(f"{archive} has not been indexed yet (no {location.catalog_path})")
    return location, Catalog(location.catalog_path)


def cmd_export(args: argparse.Namespace) -> int:
    from store import export

    location, catalog = _open_catalog(args.archive)
    with catalog:
        index = export.open_vector_index(catalog, location.path)
        rows = export.export_items(catalog, index, args.selection)
        if args.format == "csv":
            count = export.write_csv(rows, Path(args.out))
        else:
            count = export.write_json(rows, Path(args.out), location.archive.name)
    print(f"exported {count} items to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from store import export

    rows = export.read_import(Path(args.file))
    _, catalog = _open_catalog(args.archive)
    with catalog:
        report = export.import_curator_fields(catalog, rows)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(f"applied {report.applied}, unchanged {report.unchanged}, rejected {len(report.rejected)}, "
              f"unmatched {len(report.unmatched)}")  # fmt: skip
        for problem in report.rejected:
            print(f"  row {problem.row}: rejected: {problem.reason}")
        for problem in report.unmatched:
            print(f"  row {problem.row}: unmatched: {problem.reason}")
    return EXIT_OK if not report.rejected and not report.unmatched else EXIT_FAILURE


def cmd_duplicates(args: argparse.Namespace) -> int:
    from store import duplicates
    from store.export import open_vector_index
    from store.thumbnails import ThumbnailCache

    location, catalog = _open_catalog(args.archive)
    options = {}
    if args.min_cosine is not None:
        options["min_cosine"] = args.min_cosine
    if args.max_hamming is not None:
        options["max_hamming"] = args.max_hamming
    with catalog:
        groups = duplicates.find_duplicates(
            catalog, None if args.exact_only else open_vector_index(catalog, location.path), location.archive,
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
    from store import eval as evaluation

    if (args.split_file is None) != (args.query_file is None):
        raise ImagoError("give both --split-file and --query-file, or neither")
    dataset = Path(args.dataset)
    gallery = queries = None
    if args.split_file:
        gallery = evaluation.read_list(dataset, Path(args.split_file))
        queries = evaluation.read_list(dataset, Path(args.query_file))
    bundle = _clip_bundle(_models_dir(args))
    options = _session_options()

    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr, flush=True)

    report = evaluation.evaluate(
        dataset, ClipImageEncoder(bundle, options), ClipTextEncoder(bundle, options, tower="clip"),
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
    """`search` and `similar` subcommands (store/search.py)."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    shared.add_argument("--top", type=int, default=20, help="at most this many results (default 20)")
    shared.add_argument("--all", action="store_true", help="no relevance cut-off: the best N, whatever")
    shared.add_argument("--json", action="store_true", help='print {"results": [...]} as JSON')
    shared.add_argument("--models", metavar="DIR", help="model bundle folder (default: the installed models)")
    shared.add_argument("--folder", metavar="DIR", help="only this archive folder and its subfolders")
    shared.add_argument("--category", metavar="LABEL", help="only items with this category")
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
    search.add_argument("--text", required=True, metavar="TEXT", help="what to look for (any language)")
    search.set_defaults(handler=cmd_search)

    similar = sub.add_parser(
        "similar", parents=[common, shared], help="find images similar to an image file or indexed item"
    )
    similar.add_argument("image", nargs="?", metavar="IMAGE", help="query image file (not added)")
    similar.add_argument("--item", type=int, metavar="ID", help="query by indexed item id instead")
    similar.add_argument("--region", metavar="X,Y,W,H", help="only this rectangle of the query image")
    similar.add_argument(
        "--hide-duplicates", action="store_true", help="leave out files with the same content as the query"
    )
    similar.set_defaults(handler=cmd_similar)

    export = sub.add_parser("export", parents=[common], help="export an archive's catalogue as JSON or CSV")
    export.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    export.add_argument("--format", choices=("json", "csv"), default="json", help="default json")
    export.add_argument("--selection", metavar="QUERY", help="only items matching all these keywords")
    export.add_argument("--out", required=True, metavar="FILE", help="file to write")
    export.set_defaults(handler=cmd_export)

    imports = sub.add_parser("import", parents=[common], help="import curator edits from an exported JSON")
    imports.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    imports.add_argument("file", metavar="FILE", help="JSON written by 'export' (edited)")
    imports.add_argument("--json", action="store_true", help="print the report as JSON")
    imports.set_defaults(handler=cmd_import)

    dups = sub.add_parser("duplicates", parents=[common], help="list exact and near-duplicate groups")
    dups.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    dups.add_argument("--json", action="store_true", help='print {"groups": [{"kind", "items"}]} as JSON')
    dups.add_argument("--exact-only", action="store_true", help="only byte-identical copies")
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
    what.add_argument("--text", nargs="+", metavar="TEXT", help="texts (any language the bundle supports)")
    embed.add_argument("--tower", choices=("auto", "clip", "multilingual"), default="auto", help="text tower")
    embed.add_argument("--precision", choices=("auto", "fp32", "int8"), default="auto", help="image tower")
    embed.add_argument("--json", action="store_true", help='print {"model", "dim", "vectors"} as JSON')
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
