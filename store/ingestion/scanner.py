"""Walking an archive: which files are images (by content, not extension), what changed, hashing.

The walk works on bytes paths so file names that are not valid UTF-8 are indexed too. It skips
hidden entries (including `.imago`), system folders, and directories already visited (symlink loops).
A file is an image when its first bytes carry a known signature; a file whose name says "image" but
whose content does not (or that is empty, a broken link, a link loop) is reported as a problem, so
the curator sees why it is not searchable.

A folder that exists but cannot be listed (no permission, an I/O error, a share that went away) is
reported as Unavailable, never as empty: what the catalog has under it is neither marked removed nor
purged. So is an empty folder that was a mount point at the last walk and is not one now (a share or
disk not mounted): the walk reports the mount points it sees, and the catalog remembers them.
Files that failed for a reason that may pass (RETRY_KINDS: permission, I/O error) are tried again on
every scan; files whose unchanged content is bad (corrupt, truncated, not an image) are not.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from store.errors import (
    BrokenSymlinkError,
    EmptyFileError,
    FileIndexError,
    NotAnImageError,
    SymlinkLoopError,
    UnreadableFileError,
)
from store.ingestion.file_access import file_kind, open_regular
from store.storage.files import FileState, is_under

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset(
    b".jpg .jpeg .jpe .jfif .png .gif .bmp .dib .tif .tiff .webp .heic .heif .avif".split()
)
SYSTEM_DIRS = frozenset(
    {b"$RECYCLE.BIN", b"System Volume Information", b"__MACOSX", b"@eaDir", b"lost+found", b"#recycle"}
)
_SYSTEM_DIRS_FOLDED = frozenset(name.upper() for name in SYSTEM_DIRS)
HASH_CHUNK = 1 << 20
# Failure kinds (store.errors) whose cause may have gone without the file changing: retried every scan.
RETRY_KINDS = frozenset({"unreadable", "error"})


def sniff(head: bytes) -> str | None:
    """The image format a file's first 16+ bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 14:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in (
        b"heic",
        b"heix",
        b"hevc",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
        b"avif",
    ):
        return "HEIF"
    return None


def has_image_extension(name: bytes) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


@dataclass(frozen=True)
class Entry:
    """A file found by the walk (after following symlinks)."""

    raw_path: bytes  # relative to the archive root, b"/"-separated
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Problem:
    raw_path: bytes
    error: FileIndexError


@dataclass(frozen=True)
class Unavailable:
    """A folder whose files cannot be seen now (`raw_path` relative, b"" for the archive): it cannot be
    entered or listed, or it is the empty mount point of a disk or share that is not mounted. Also an
    entry whose type cannot be read (it may be a folder)."""

    raw_path: bytes
    reason: str


@dataclass
class ScanPlan:
    """What the indexer must do after comparing the walk with the catalog."""

    new: list[Entry] = field(default_factory=list)
    changed: list[tuple[Entry, FileState]] = field(default_factory=list)
    unchanged: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    vanished: list[FileState] = field(default_factory=list)  # in the catalog, not on disk any more
    unavailable: list[Unavailable] = field(default_factory=list)  # folders that could not be listed


def _is_hidden(name: bytes, st: os.stat_result | None) -> bool:
    if name.startswith(b"."):
        return True
    attrs = getattr(st, "st_file_attributes", 0) if st is not None else 0
    return bool(
        attrs & (getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0) | getattr(stat, "FILE_ATTRIBUTE_SYSTEM", 0))
    )


def _listed_stat(entry: os.DirEntry) -> os.stat_result | None:
    """The stat Windows' directory listing already holds (attributes included); None elsewhere,
    where it would cost a system call per name."""
    if os.name != "nt":
        return None
    try:
        return entry.stat(follow_symlinks=False)
    except OSError:
        return None


def is_system_dir(name: bytes, st: os.stat_result | None = None, platform: str = os.name) -> bool:
    """A folder the scanner never enters: hidden, or one the system or a NAS keeps. Windows names are
    case-insensitive (the system drive's recycle bin is `$Recycle.Bin`) and its hidden or system
    folders carry attributes instead of a leading dot (`st` from the directory listing, free there)."""
    if name.startswith(b".") or name in SYSTEM_DIRS:
        return True
    return platform == "nt" and (name.upper() in _SYSTEM_DIRS_FOLDED or _is_hidden(name, st))


def _link_problem(rel: bytes, full: bytes, exc: OSError) -> Problem:
    shown = rel.decode("utf-8", "backslashreplace")
    if exc.errno == errno.ELOOP:
        return Problem(rel, SymlinkLoopError(f"symbolic link loop: {shown}"))
    if os.path.islink(full) and isinstance(exc, FileNotFoundError):
        return Problem(
            rel, BrokenSymlinkError(f"broken symbolic link: {shown} -> {os.fsdecode(os.readlink(full))}")
        )
    return Problem(rel, UnreadableFileError(f"cannot read {shown}: {exc.strerror or exc}"))


def _unavailable(rel_dir: bytes, full_dir: bytes, exc: OSError, what: str) -> Unavailable | None:
    """The folder's Unavailable report, or None when it is simply gone (deleted or replaced by a file
    while the walk ran: its files vanished)."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return None
    logger.warning(
        "cannot %s folder %s (kept as unavailable, not removed): %s", what, os.fsdecode(full_dir), exc
    )
    return Unavailable(rel_dir, f"cannot {what} folder: {exc.strerror or exc}")


def walk(
    archive: Path,
    roots: Iterable[bytes] | None = None,
    *,
    mount_points: Collection[bytes] = (),
    seen_mounts: set[bytes] | None = None,
) -> Iterator[Entry | Problem | Unavailable]:
    """Yield every candidate file under `archive` (or under the relative `roots`) as an Entry, files
    that look like images but cannot be used as a Problem, and folders that cannot be listed as
    Unavailable. Content is not sniffed here.

    `mount_points`: relative folders that were mount points before; one now empty and not mounted is
    Unavailable. The mount points found are added to `seen_mounts` when given."""
    base = os.fsencode(archive)
    visited: set[tuple[int, int]] = set()
    stack: list[tuple[bytes, int | None]] = []  # (folder, its parent's st_dev when known)
    for root in [b""] if roots is None else roots:
        full = os.path.join(base, root) if root else base
        if root and not os.path.isdir(full):
            yield from _file_entry(root, full, None)
        else:
            stack.append((root, None))
    while stack:
        rel_dir, parent_dev = stack.pop()
        full_dir = os.path.join(base, rel_dir) if rel_dir else base
        try:
            st = os.stat(full_dir)
        except OSError as exc:
            if (report := _unavailable(rel_dir, full_dir, exc, "enter")) is not None:
                yield report
            continue
        if (st.st_dev, st.st_ino) in visited:
            logger.info("skipping %s: folder already visited (symbolic link loop)", os.fsdecode(full_dir))
            continue
        visited.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(full_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if (report := _unavailable(rel_dir, full_dir, exc, "list")) is not None:
                yield report
            continue
        if mount_points or seen_mounts is not None:
            # A folder on another device than its parent is a mount point (os.path.ismount's own
            # test, without its two extra stat calls per folder on a slow share).
            mounted = st.st_dev != parent_dev if parent_dev is not None else os.path.ismount(full_dir)
            if mounted and seen_mounts is not None:
                seen_mounts.add(rel_dir)
            if not entries and not mounted and rel_dir in mount_points:
                logger.warning(
                    "folder %s is an empty mount point (not mounted?): kept as unavailable",
                    os.fsdecode(full_dir),
                )
                yield Unavailable(rel_dir, "empty folder where a disk or share was mounted (not mounted?)")
                continue
        subdirs = []
        for entry in entries:
            name = entry.name
            rel = rel_dir + b"/" + name if rel_dir else name
            if is_system_dir(name, _listed_stat(entry)):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError as exc:  # perhaps a folder: unavailable; a link loop is a problem (below)
                report = None if exc.errno == errno.ELOOP else _unavailable(rel, entry.path, exc, "check")
                if report is not None:
                    yield report
                    continue
                is_dir = False
            if is_dir:
                subdirs.append(rel)
            else:
                yield from _file_entry(rel, entry.path, entry)
        stack.extend((subdir, st.st_dev) for subdir in reversed(subdirs))


def _file_entry(rel: bytes, full: bytes, entry: os.DirEntry | None) -> Iterator[Entry | Problem]:
    name = os.path.basename(rel)
    if name.startswith(b"."):
        return
    try:
        st = entry.stat() if entry is not None else os.stat(full)
    except OSError as exc:
        # Only names that promise an image are reported; other unreadable files are not ours.
        if has_image_extension(name) and os.path.lexists(full):
            yield _link_problem(rel, full, exc)
        return
    if _is_hidden(name, st):
        return
    if not stat.S_ISREG(st.st_mode):
        # A pipe, device or socket named like an image is reported, never opened (reading would block).
        if has_image_extension(name) and not stat.S_ISDIR(st.st_mode):
            shown = rel.decode("utf-8", "backslashreplace")
            yield Problem(rel, NotAnImageError(f"not a regular file ({file_kind(st.st_mode)}): {shown}"))
        return
    yield Entry(rel, st.st_size, st.st_mtime_ns)


def classify_content(archive: Path, entry: Entry) -> FileIndexError | bool | None:
    """True when the entry is an image, a FileIndexError when it should be one but is not, None
    when it is simply not an image file (ignored)."""
    full = os.path.join(os.fsencode(archive), entry.raw_path)
    shown = entry.raw_path.decode("utf-8", "backslashreplace")
    image_name = has_image_extension(os.path.basename(entry.raw_path))
    if entry.size == 0:
        return EmptyFileError(f"empty file (0 bytes): {shown}") if image_name else None
    try:
        with open_regular(full, shown) as fh:
            head = fh.read(32)
    except FileIndexError as exc:
        return exc if image_name else None
    except OSError as exc:
        return UnreadableFileError(f"cannot read {shown}: {exc.strerror or exc}") if image_name else None
    if sniff(head) is not None:
        return True
    if image_name:
        return NotAnImageError(f"not a recognised image (content does not match any image format): {shown}")
    return None


def plan_scan(
    archive: Path,
    known: dict[bytes, FileState],
    found: Iterable[Entry | Problem | Unavailable],
    roots: Iterable[bytes] | None = None,
) -> ScanPlan:
    """Compare what the walk found with the catalog's files (`known`). Files under an unavailable
    folder are left out of `vanished`: they are not known to be gone."""
    plan = ScanPlan()
    seen: set[bytes] = set()
    for item in found:
        if isinstance(item, Unavailable):
            plan.unavailable.append(item)
            continue
        seen.add(item.raw_path)
        if isinstance(item, Problem):
            plan.problems.append(item)
            continue
        state = known.get(item.raw_path)
        if (
            state is not None
            and state.status != "missing"
            and (state.size, state.mtime_ns) == (item.size, item.mtime_ns)
            and not (state.status == "failed" and state.error_kind in RETRY_KINDS)
        ):
            if state.status == "indexed":
                plan.unchanged.append(item)
            continue
        verdict = classify_content(archive, item)
        if isinstance(verdict, FileIndexError):
            plan.problems.append(Problem(item.raw_path, verdict))
        elif verdict is True:
            # A row at this path (even a 'missing' one) is updated in place, never duplicated.
            (plan.new.append(item) if state is None else plan.changed.append((item, state)))
        elif state is not None:
            seen.discard(item.raw_path)  # was an image, is not any more: treat the image as gone
    scope = None if roots is None else [r for r in roots]
    for raw_path, state in known.items():
        if raw_path in seen or state.status == "missing":
            continue
        if scope is not None and not any(is_under(raw_path, r) for r in scope):
            continue
        if any(is_under(raw_path, u.raw_path) for u in plan.unavailable):
            continue
        plan.vanished.append(state)
    return plan


def hash_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def hash_file(path: Path | bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open_regular(path) as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
