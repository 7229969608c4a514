"""`index` (scan an archive, optionally keep watching it), `caption` (describe image files) and
`restore` (put a catalog backup back)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from desktop.cli.common import EXIT_OK, UsageError, archive_folder, models_dir


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
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

    restore = sub.add_parser(
        "restore", parents=[common], help="restore the archive's catalog from a backup",
        description="Replace ARCHIVE's catalog with a backup from .imago/backups/ (the newest, or --from "
        "NAME); the current catalog is kept as another backup. Close Imago on the archive first.",
    )  # fmt: skip
    restore.add_argument("archive", help="archive folder")
    restore.add_argument("--list", action="store_true", help="list the backups, newest first")
    restore.add_argument("--from", dest="source", metavar="NAME", help="backup file name (see --list)")
    restore.set_defaults(handler=cmd_restore)


def cmd_index(args: argparse.Namespace) -> int:
    from models.bundle import MANIFEST
    from models.loading import load_ensemble_encoder, load_index_models
    from store import config
    from store.ingestion.indexer import Indexer
    from store.ingestion.subphotos import detect_subphotos
    from store.ingestion.watcher import ArchiveWatcher, index_and_watch
    from store.platform.signals import quit_signals
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog
    from store.storage.vector_index import VectorIndex

    archive = archive_folder(args.archive)
    folder = models_dir(args)
    if (folder / MANIFEST).is_file():  # indexing needs the folder: CLIP, GIT and head bundles
        raise UsageError(f"{folder} is a bundle; pass the folder that holds bundles (--models DIR)")
    location = locate_index(archive)
    if location.fallback:
        print(f"imago: the archive is read-only; its index is kept in {location.path}", file=sys.stderr)
    settings = config.Settings.load()
    encoder, classifiers, captioner = load_index_models(
        folder, settings, captions=not args.no_caption, cache_dir=config.user_data_dir() / "cache"
    )
    ensemble = load_ensemble_encoder(folder, settings, encoder.model_id)
    if ensemble is not None:
        print(f"imago: also embedding with {ensemble.model_id} (ensemble_model)", file=sys.stderr)
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
            region_detector=detect_subphotos, vector_index=vectors, ensemble_encoder=ensemble,
        )  # fmt: skip
        watcher = ArchiveWatcher(location.archive) if args.watch else None
        previous_handlers = {}
        if watcher is not None:
            # Ctrl+C (or SIGTERM; Ctrl+Break on Windows) is how --watch is meant to end. The handler
            # only sets flags: a KeyboardInterrupt can land where it is swallowed (a finalizer, a
            # callback) and leave the process watching.
            def stop_watching(_signum, _frame) -> None:
                watcher.request_stop()
                indexer.cancel()

            for sig in quit_signals():
                previous_handlers[sig] = signal.signal(sig, stop_watching)
        runs = 0

        def run_done(summary) -> None:
            nonlocal runs
            runs += 1
            line.close()
            report(summary)
            if runs == 1 and watcher is not None and not indexer.cancelled:
                print(f"imago: watching {location.archive} (Ctrl+C to stop)", file=sys.stderr, flush=True)

        try:
            captioning = captioner is not None
            for progress in index_and_watch(indexer, watcher, captions=captioning, on_run_done=run_done):
                line.update(progress)
            line.close()
            if watcher is not None:
                print("imago: stopped watching", file=sys.stderr)
        finally:
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
        models_dir(args),
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


def cmd_restore(args: argparse.Namespace) -> int:
    """Put back one of the catalog backups kept under .imago/backups/ (store.storage.backup)."""
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
