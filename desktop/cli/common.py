"""What every command shares: exit codes, argument types, checks made before anything is loaded,
logging, and the one-line messages that failures become."""

from __future__ import annotations

import argparse
import errno
import logging
import logging.handlers
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.errors import ImagoError, InputError

__version__ = "0.1.0"

logger = logging.getLogger("imago")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(InputError):
    """A command line that cannot mean anything: exit 2, with the subcommand's usage."""


# ---------------------------------------------------------------------------------------------------
# argument types

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
item_id = _whole_number(
    _MAX_ID, "an item id is a whole number, not {text!r}", "no item can have the id {text}"
)
top = _whole_number(
    _MAX_TOP,
    "--top takes a whole number, not {text!r}",
    f"--top takes a number from 1 to {_MAX_TOP}, not {{text}}",
)


def utf8_text(value: str) -> str:
    """A text argument. Bytes that do not decode in the terminal's encoding reach Python as lone
    surrogates (PEP 383), which no tokenizer or SQLite string accepts: a usage error, said plainly."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(value)
        raise argparse.ArgumentTypeError(f"{raw!r} is not valid UTF-8 text") from None
    return value


# ---------------------------------------------------------------------------------------------------
# checks and objects shared by the handlers (imported lazily: `imago --help` loads no model code)


def archive_folder(archive: str) -> Path:
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


def open_catalog(archive: str):
    """(IndexLocation, Catalog) of an indexed ARCHIVE; an archive never indexed is an error."""
    from store.errors import ArchiveError
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    location = locate_index(archive_folder(archive), create=False)
    if not location.catalog_path.is_file():
        raise ArchiveError(f"{archive} has not been indexed yet (no {location.catalog_path})")
    return location, Catalog(location.catalog_path, create=False)  # deleted meanwhile: reported, not remade


def models_dir(args: argparse.Namespace, *, existing: bool = False) -> Path:
    """--models, else the installed models' folder. `existing`: a --models folder that is not there is
    an error (a mistyped path must not quietly mean "no models": Imago would use its built-in one)."""
    from store import config

    if not getattr(args, "models", None):
        return config.models_dir()
    folder = Path(args.models).expanduser()
    if existing and not folder.is_dir():
        raise ImagoError(f"model folder not found: {folder}")
    return folder


def session_options():
    """onnxruntime options from the saved settings (device, threads)."""
    from models.loading import session_options as options
    from store.config import Settings

    return options(Settings.load())


@contextmanager
def unless_missing(package: str, message: str) -> Iterator[None]:
    """Imports in this block that fail because `package` is not in this build (the installed app ships
    no benchmarks and no exporters) raise ImagoError(message) instead of a ModuleNotFoundError."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if exc.name != package and not (exc.name or "").startswith(package + "."):
            raise
        raise ImagoError(message) from None


# ---------------------------------------------------------------------------------------------------
# logging and failures


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


def failed(args: argparse.Namespace, message: str) -> int:
    """Say `message` on one line of stderr (with the traceback under --debug): exit status 1."""
    if args.debug:
        logger.exception("failed")
    print(f"imago: error: {message}", file=sys.stderr)
    return EXIT_FAILURE


def os_error_text(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full{where}; free some space and run the command again"
    if exc.errno == errno.EROFS:
        return f"the file system is read-only{where}"
    return f"{exc.strerror or exc}{where}"


def catalog_error_text(exc: sqlite3.Error) -> str:
    said = str(exc)
    if "readonly" in said or "read-only" in said:
        return f"the archive's catalog cannot be written: it is read-only ({said})"
    if "disk is full" in said or getattr(exc, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return f"the disk is full ({said}); free some space and run the command again"
    if "locked" in said or "busy" in said:
        return f"the archive's catalog is busy: another Imago is writing it ({said})"
    return f"the archive's catalog: {said}"
