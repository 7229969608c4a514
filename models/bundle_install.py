"""Installing model bundles from a folder or a .zip, safely, and removing them.

Installs verify every hash and refuse a bundle whole, before anything is written, when it could escape
its folder (path traversal, absolute or Windows-special names, symbolic links) or exhaust the disk (zip
bombs, oversized archives). A bundle is staged in a temporary folder inside the model folder and
renamed into place, so a failed or interrupted install leaves nothing half-written.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from models.bundle import MANIFEST, Bundle, list_bundles, load_bundle, safe_relative, verify_bundle
from models.errors import BundleError

logger = logging.getLogger(__name__)

_INSTALL_PREFIX = ".install-"
# Install limits. The largest real bundle (CLIP ViT-L/14 with a multilingual tower, fp32 + int8) is
# about 3 GiB; ONNX weights compress by ~1.1x, tokenizers by ~5x, while a zip bomb expands >1000x.
MAX_BUNDLE_BYTES = 16 << 30
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_RATIO = 200
MAX_ZIP_RATIO_FROM = 1 << 20  # small entries (a manifest, a vocabulary) may compress as they like


def _extract_zip(src: Path, dest: Path) -> None:
    """Unpack the bundle archive `src` into `dest`, refusing it whole before anything is written when
    an entry is unsafe (traversal, absolute, Windows-special names), a symbolic link, or when it
    unpacks to more than MAX_BUNDLE_BYTES or MAX_ZIP_ENTRIES, or an entry is compressed suspiciously
    well (a zip bomb). Sizes are counted while writing too, so a header that lies cannot exceed them."""
    try:
        archive = zipfile.ZipFile(src)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise BundleError(f"cannot open bundle archive {src}: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise BundleError(
                f"refusing bundle archive {src}: {len(infos)} entries (at most {MAX_ZIP_ENTRIES})"
            )
        total = 0
        for info in infos:
            _check_zip_entry(src, info)
            total += info.file_size
        if total > MAX_BUNDLE_BYTES:
            raise BundleError(
                f"refusing bundle archive {src}: it unpacks to {total / 2**30:.1f} GiB "
                f"(at most {MAX_BUNDLE_BYTES / 2**30:.0f} GiB)"
            )
        _check_free_space(dest.parent.parent, total, src)  # the model folder, not the staging one
        try:
            for info in infos:
                _extract_entry(archive, info, dest, src)
        except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
            raise BundleError(f"cannot extract bundle archive {src}: {_reason(exc)}") from exc


def _check_zip_entry(src: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    if not safe_relative(name.rstrip("/")) or name.startswith(("/", "\\")):
        raise BundleError(f"refusing bundle archive {src}: unsafe entry {name!r}")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise BundleError(f"refusing bundle archive {src}: symbolic link entry {name!r}")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: a zip written without Unix modes
        raise BundleError(f"refusing bundle archive {src}: entry {name!r} is not a file or folder")
    ratio = info.file_size // max(info.compress_size, 1)
    if info.file_size > MAX_ZIP_RATIO_FROM and ratio > MAX_ZIP_RATIO:
        raise BundleError(
            f"refusing bundle archive {src}: entry {name!r} expands {ratio} times (a zip bomb?)"
        )


def _extract_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, src: Path) -> None:
    target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as data, open(target, "xb") as out:  # "x": a duplicate entry is an error
        while block := data.read(1 << 20):
            written += len(block)
            if written > info.file_size:
                raise BundleError(
                    f"refusing bundle archive {src}: entry {info.filename!r} is larger than it says"
                )
            out.write(block)


def _check_free_space(folder: Path, needed: int, src: Path) -> None:
    """Say so before writing when the model folder's disk cannot hold `needed` bytes (and some room)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unknown: writing will tell
    if needed + (64 << 20) > free:
        raise BundleError(
            f"not enough disk space to install {src} into {folder}: it needs {needed / 2**20:.0f} MiB, "
            f"{free / 2**20:.0f} MiB free"
        )


def _reason(exc: BaseException) -> str:
    """An OSError as its message and file (no errno prefix), anything else as its text."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


def _checked_folder_bundle(root: Path, src: Path) -> Bundle:
    """Refuse a bundle folder whose manifest or named files are symbolic links (or pass through one),
    or are not regular files (a FIFO would block the copy), or that holds more than MAX_BUNDLE_BYTES."""

    def regular(rel: str) -> int:
        current = root
        for part in PurePosixPath(rel.replace("\\", "/")).parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                raise BundleError(f"bundle {root}: file {rel!r} is missing") from None
            if stat.S_ISLNK(mode):
                raise BundleError(f"refusing bundle {src}: {current} is a symbolic link")
        if not stat.S_ISREG(mode):
            raise BundleError(f"refusing bundle {src}: {current} is not a regular file")
        return os.lstat(current).st_size

    if root != src and os.path.islink(root):
        raise BundleError(f"refusing bundle {src}: {root} is a symbolic link")
    regular(MANIFEST)
    bundle = load_bundle(root)
    total = sum(regular(entry["path"]) for entry in bundle.manifest["files"].values())
    if total > MAX_BUNDLE_BYTES:
        raise BundleError(
            f"refusing bundle {src}: {total / 2**30:.1f} GiB (at most {MAX_BUNDLE_BYTES / 2**30:.0f} GiB)"
        )
    return bundle


def _bundle_root(folder: Path, src: Path) -> Path:
    """The folder holding manifest.json: `folder` itself or its single subfolder."""
    if (folder / MANIFEST).is_file():
        return folder
    children = [c for c in folder.iterdir() if not c.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and (children[0] / MANIFEST).is_file():
        return children[0]
    raise BundleError(f"{src} is not a model bundle: no {MANIFEST} at its top level")


def install_bundle(src: Path, models_dir: Path, replace: bool = False) -> Bundle:
    """Install a bundle from a folder or .zip into `models_dir/<name>`, verifying every hash.

    The bundle is staged in a temporary folder inside `models_dir` and renamed into place, so a
    failed or interrupted install leaves nothing half-written. An existing bundle of the same name is
    refused unless `replace` is true.
    """
    src, models_dir = Path(src), Path(models_dir)
    if not src.exists():
        raise BundleError(f"bundle to install not found: {src}")
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_INSTALL_PREFIX, dir=models_dir))
    except OSError as exc:
        raise BundleError(f"cannot write to the model folder {models_dir}: {exc}") from exc
    try:
        return _install_staged(src, models_dir, staging, replace)
    except OSError as exc:
        raise BundleError(f"cannot install bundle {src} into {models_dir}: {_reason(exc)}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _install_staged(src: Path, models_dir: Path, staging: Path, replace: bool) -> Bundle:
    if src.is_dir():
        _copy_files(_checked_folder_bundle(_bundle_root(src, src), src), staging)
    elif not src.is_file():  # a FIFO or device would block the zip reader
        raise BundleError(f"{src} is neither a bundle folder nor a .zip file")
    else:
        _extract_zip(src, staging / "unpacked")
        _copy_files(load_bundle(_bundle_root(staging / "unpacked", src)), staging, move=True)
        shutil.rmtree(staging / "unpacked")
    staged = verify_bundle(staging)
    target = models_dir / staged.name
    if target.exists():
        if not replace:
            raise BundleError(f"a bundle named {staged.name!r} is already installed at {target}")
        old = Path(tempfile.mkdtemp(prefix=_INSTALL_PREFIX, dir=models_dir))
        os.replace(target, old / "old")
        try:
            os.replace(staging, target)
        except OSError:
            os.replace(old / "old", target)  # put the previous bundle back
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)
    logger.info("installed model bundle %s into %s", staged.model_id, target)
    return Bundle(target, staged.manifest)  # os.replace moved what verify_bundle checked


def _copy_files(bundle: Bundle, dest: Path, move: bool = False) -> None:
    """Copy (or move) the manifest and the files it names, and nothing else, into `dest`."""
    paths: Iterable[str] = dict.fromkeys([MANIFEST, *(e["path"] for e in bundle.manifest["files"].values())])
    for rel in paths:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.move if move else shutil.copy2)(bundle.path / rel, target)


def remove_bundle(models_dir: Path, name: str) -> Path:
    """Delete the installed bundle called `name`; returns the folder that was removed."""
    models_dir = Path(models_dir)
    matches = [b for b in list_bundles(models_dir) if b.is_named(name)]
    target = matches[0].path if matches else models_dir / name
    if not safe_relative(name) or target.parent.resolve() != models_dir.resolve() or not target.is_dir():
        raise BundleError(f"no model bundle named {name!r} in {models_dir}")
    shutil.rmtree(target)
    logger.info("removed model bundle %s", target)
    return target
