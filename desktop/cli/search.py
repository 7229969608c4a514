"""`search` (by text), `similar` (to an image file, an indexed item or a region) and `duplicates`."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path

from desktop.cli.common import (
    EXIT_OK,
    UsageError,
    archive_folder,
    item_id,
    logger,
    models_dir,
    open_catalog,
    top,
    utf8_text,
)
from models.errors import InputError


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("archive", metavar="ARCHIVE", help="indexed archive folder")
    shared.add_argument("--top", type=top, default=20, help="at most this many results (default 20)")
    shared.add_argument("--all", action="store_true", help="no relevance cut-off: the best N, whatever")
    shared.add_argument("--json", action="store_true", help='print {"results": [...]} as JSON')
    shared.add_argument("--models", metavar="DIR", help="model bundle folder (default: the installed models)")
    shared.add_argument(
        "--folder", type=utf8_text, metavar="DIR", help="only this archive folder and its subfolders"
    )
    shared.add_argument("--category", type=utf8_text, metavar="LABEL", help="only items with this category")
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
        "--text", type=utf8_text, required=True, metavar="TEXT", help="what to look for (any language)"
    )
    search.set_defaults(handler=cmd_search)

    similar = sub.add_parser(
        "similar", parents=[common, shared], help="find images similar to an image file or indexed item"
    )
    similar.add_argument(
        "image", nargs="?", metavar="IMAGE",
        help="query image file (not added), or a path inside ARCHIVE as search prints it",
    )  # fmt: skip
    similar.add_argument("--item", type=item_id, metavar="ID", help="query by indexed item id instead")
    similar.add_argument("--region", metavar="X,Y,W,H", help="only this rectangle of the query image")
    similar.add_argument(
        "--hide-duplicates", action="store_true", help="leave out files with the same content as the query"
    )
    similar.set_defaults(handler=cmd_similar)

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


def _search_service(args: argparse.Namespace, *, text: bool, required: bool):
    """A SearchService on ARCHIVE with the image model (an installed or --models CLIP bundle, else the
    image model shipped with Imago) and, with CLIP, its text tower; without any model, `required`
    raises and otherwise the service runs model-free (keywords, --item)."""
    from models.errors import BundleError
    from models.loading import load_ensemble_encoder, load_search_encoders
    from store.config import Settings
    from store.services.search import SearchService

    image_encoder = text_encoder = ensemble = None
    settings = Settings.load()
    folder = models_dir(args, existing=True)
    try:
        image_encoder, text_encoder = load_search_encoders(folder, settings)
    except BundleError as exc:
        if required:
            raise
        logger.warning("%s; searching without an image model", exc)
    if image_encoder is not None and not text:  # find similar fuses the setting ensemble_model's scores
        ensemble = load_ensemble_encoder(folder, settings, image_encoder.model_id)
    if text_encoder is None and text:
        logger.info("no CLIP bundle: text search matches names, tags, captions and descriptions only")
    return SearchService.open(
        Path(args.archive), image_encoder=image_encoder, text_encoder=text_encoder if text else None,
        ensemble_encoder=ensemble, ensemble_weight=settings.ensemble_weight,
    )  # fmt: skip


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

    def day(text: str | None, end: bool) -> float | None:
        if text is None:
            return None
        try:
            start = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC).timestamp()
        except ValueError:
            raise UsageError(f"a date is YYYY-MM-DD, not {text!r}") from None
        return start + 86_399.999 if end else start  # file dates beyond 1677-2262: SearchFilter clamps

    return SearchFilter(
        folder=args.folder, category=args.category, since=day(args.since, False), until=day(args.until, True),
        has_caption=args.has_caption, confirmed=args.confirmed, order=args.order, date=args.date,
    )  # fmt: skip


def cmd_search(args: argparse.Namespace) -> int:
    archive_folder(args.archive)
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
    archive = archive_folder(args.archive)  # before anything is loaded
    from store.boxes import parse_bbox

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


def cmd_duplicates(args: argparse.Namespace) -> int:
    from store.services import duplicates
    from store.services.export import open_vector_index
    from store.storage.thumbnails import ThumbnailCache

    archive_folder(args.archive)
    model_id = None
    if args.models and not args.exact_only:  # compare the vectors of that folder's image model
        from models.loading import load_search_encoders
        from store.config import Settings

        model_id = load_search_encoders(models_dir(args, existing=True), Settings.load())[0].model_id
    location, catalog = open_catalog(args.archive)
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
