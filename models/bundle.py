"""Model bundles: a folder with `manifest.json` plus the files it names (ONNX graphs, tokenizers).

Manifest format (JSON object, `format` 1)::

    {
      "format": 1,                       # manifest format version; other values are refused
      "kind": "clip",                    # "clip" | "git" | "head" | "image"
      "name": "clip-vit-b32",            # bundle name; also the folder name once installed
      "version": "1",                    # bundle version; model_id is f"{name}@{version}"
      "source": "openai/clip-vit-base-patch32",   # where the weights came from
      "license": "MIT",
      "files": {                         # role -> file, relative to the bundle folder
        "image": {"path": "image.onnx", "sha256": "<64 hex>"},
        ...
      },
      ...kind-specific sections...
    }

Common optional sections: `preprocessing` (see `models.preprocess.PreprocessSpec.from_manifest`),
`embedding_dim` (int), `default` (true marks the default bundle of its kind when several are installed).

Kind "clip" (see `models.clip`): files `image` (fp32 image tower: pixel_values -> image_embeds,
L2-normalised), optional `image_int8`, `text` + `tokenizer` (CLIP text tower: input_ids,
attention_mask -> text_embeds), optional `text_multilingual` + `tokenizer_multilingual`, optional
`license` (a license note shipped with the weights or vocabulary); sections `embedding_dim`,
`logit_scale` (float, exp of the model's learnt scale), `preprocessing` (required),
`image_tower` ({"default": "fp32" | "int8"}) and `text_towers` ({"clip": {...}, "multilingual":
{...}}, each {"model": role, "tokenizer": role, "max_length": int, "pad_id": int, "source": str}).
Zero-shot prompts are not part of the bundle: see resources/vocabularies.

Kind "head" (see `models.classifier`): file `model` (ONNX: embeddings [n, d] -> probabilities
[n, k]); version: the UTC training time; sections `head` ("category" | "name"), `labels` (k
strings), `base_model` (the CLIP model_id whose image embeddings it was trained on),
`embedding_dim`, `metrics`.

Kind "image" (see `models.image_model`): file `model` (any ONNX image backbone), optional `labels`;
sections `image_model`, `preprocessing`, `embedding_dim`.

Kind "git" (see `models.captioner`): its files and sections are defined by `models.export.git`;
only the common part and `preprocessing` (when present) are checked here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from models.errors import BundleError

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
KINDS = ("clip", "git", "head", "image")
_REQUIRED_ROLES = {"clip": ("image", "text", "tokenizer"), "head": ("model",), "git": (), "image": ("model",)}
_INSTALL_PREFIX = ".install-"
# Install limits. The largest real bundle (CLIP ViT-L/14 with a multilingual tower, fp32 + int8) is
# about 3 GiB; ONNX weights compress by ~1.1x, tokenizers by ~5x, while a zip bomb expands >1000x.
MAX_BUNDLE_BYTES = 16 << 30
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_RATIO = 200
MAX_ZIP_RATIO_FROM = 1 << 20  # small entries (a manifest, a vocabulary) may compress as they like


@dataclass
class Bundle:
    """An installed (or fixture) model bundle: its folder and its validated manifest."""

    path: Path
    manifest: dict = field(repr=False)

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def model_id(self) -> str:
        """Stable id of this model and version, e.g. 'clip-vit-b32@1'."""
        return f"{self.name}@{self.version}"

    def has(self, role: str) -> bool:
        return role in self.manifest["files"]

    def file(self, role: str) -> Path:
        """Path of the file the manifest names for `role` (e.g. 'image', 'tokenizer')."""
        try:
            entry = self.manifest["files"][role]
        except KeyError:
            raise BundleError(f"bundle {self.path} has no file with role {role!r}") from None
        return self.path / entry["path"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Windows device names: a file called CON, NUL, COM1 or aux.onnx opens the device, whatever the folder.
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in [*"123456789", "\u00b9", "\u00b2", "\u00b3"]]
)
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*') | frozenset(map(chr, range(32)))


def _portable_name(part: str) -> bool:
    """Whether one path component names the same ordinary file on Linux, macOS and Windows."""
    if part in ("", ".", "..") or part.endswith((".", " ")) or _WINDOWS_FORBIDDEN.intersection(part):
        return False  # Windows drops trailing dots and spaces; ':' also names NTFS alternate streams
    return part.split(".")[0].rstrip(" ").upper() not in _WINDOWS_DEVICES


def _safe_relative(rel: str) -> bool:
    """Whether `rel` is a relative path that stays inside its folder on every OS.

    Backslashes are separators first (`..\\evil.onnx` is `../evil.onnx`, as Windows reads it); then no
    absolute path or drive, no `..`, and no component Windows treats specially (device names such as
    CON, NUL, COM1 or aux.onnx, names ending in a dot or space, `:` and the other forbidden characters).
    """
    if not isinstance(rel, str) or not rel:
        return False
    pure = PurePosixPath(rel.replace("\\", "/"))
    return bool(pure.parts) and not pure.is_absolute() and all(_portable_name(p) for p in pure.parts)


def _validate(manifest: object, where: Path) -> dict:
    """Check the common manifest fields; raise BundleError naming the offending field."""
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}: manifest is not a JSON object")
    version = manifest.get("format")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{where}: unsupported manifest format {version!r} (this Imago reads format {FORMAT_VERSION})"
        )
    for key in ("kind", "name", "version"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise BundleError(f"{where}: field {key!r} must be a non-empty string")
    if manifest["kind"] not in KINDS:
        raise BundleError(
            f"{where}: field 'kind' is {manifest['kind']!r}, expected one of {', '.join(KINDS)}"
        )
    if not _safe_relative(manifest["name"]) or "/" in manifest["name"] or manifest["name"].startswith("."):
        raise BundleError(f"{where}: field 'name' {manifest['name']!r} is not a valid folder name")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{where}: field 'files' must be an object of role -> {{path, sha256}}")
    for role, entry in files.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise BundleError(f"{where}: files.{role} must be an object with a 'path'")
        if not _safe_relative(entry["path"]):
            raise BundleError(f"{where}: files.{role}.path {entry['path']!r} leaves the bundle folder")
        digest = entry.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64:
            raise BundleError(f"{where}: files.{role}.sha256 must be a 64-digit hex string")
    for role in _REQUIRED_ROLES[manifest["kind"]]:
        if role not in files:
            raise BundleError(f"{where}: a {manifest['kind']} bundle needs a file with role {role!r}")
    dim = manifest.get("embedding_dim")
    if manifest["kind"] in ("clip", "head", "image") and (not isinstance(dim, int) or dim <= 0):
        raise BundleError(f"{where}: field 'embedding_dim' must be a positive integer, not {dim!r}")
    if "preprocessing" in manifest:
        from models.preprocess import PreprocessSpec

        PreprocessSpec.from_manifest(manifest["preprocessing"], where=where)
    if manifest["kind"] == "clip":
        _validate_clip(manifest, where)
    if manifest["kind"] == "image":
        from models.image_model import validate_section

        validate_section(manifest, where)
    return manifest


def _validate_clip(manifest: dict, where: Path) -> None:
    files = manifest["files"]
    if "preprocessing" not in manifest:
        raise BundleError(f"{where}: a clip bundle needs a 'preprocessing' section")
    scale = manifest.get("logit_scale", 100.0)
    if not isinstance(scale, int | float) or isinstance(scale, bool) or scale <= 0:
        raise BundleError(f"{where}: field 'logit_scale' must be a positive number, not {scale!r}")
    default = manifest.get("image_tower", {}).get("default", "fp32")
    if default not in ("fp32", "int8") or (default == "int8" and "image_int8" not in files):
        raise BundleError(
            f"{where}: image_tower.default {default!r} needs to be 'fp32' or 'int8' (with image_int8)"
        )
    towers = manifest.get("text_towers", {})
    if not isinstance(towers, dict):
        raise BundleError(f"{where}: field 'text_towers' must be an object")
    for name, section in towers.items():
        for key, kind in (("model", str), ("tokenizer", str), ("max_length", int), ("pad_id", int)):
            if not isinstance(section, dict) or not isinstance(section.get(key), kind):
                raise BundleError(f"{where}: text_towers.{name}.{key} is missing or not a {kind.__name__}")
        for role in (section["model"], section["tokenizer"]):
            if role not in files:
                raise BundleError(
                    f"{where}: text_towers.{name} names file role {role!r}, which 'files' lacks"
                )


def load_bundle(path: Path) -> Bundle:
    """Read and validate the bundle in folder `path` (every named file must exist; hashes: verify_bundle)."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise BundleError(f"model bundle folder not found: {path}")
    if not manifest_path.is_file():
        raise BundleError(f"not a model bundle (no {MANIFEST}): {path}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"cannot read {manifest_path}: {exc}") from exc
    bundle = Bundle(path, _validate(manifest, manifest_path))
    for role in manifest["files"]:
        if not bundle.file(role).is_file():
            raise BundleError(f"bundle {path}: file {bundle.file(role).name!r} (role {role!r}) is missing")
    return bundle


def verify_bundle(bundle: Bundle | Path) -> Bundle:
    """Check the sha256 of every file in the bundle; raise BundleError naming the first mismatch."""
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    for role, entry in bundle.manifest["files"].items():
        actual = sha256_file(bundle.file(role))
        if actual != entry["sha256"].lower():
            raise BundleError(
                f"bundle {bundle.path}: file {entry['path']!r} (role {role!r}) has sha256 {actual}, "
                f"manifest says {entry['sha256']}"
            )
    return bundle


def list_bundles(models_dir: Path) -> list[Bundle]:
    """Valid bundles installed in `models_dir`, sorted by name; invalid folders are logged and skipped."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    bundles = []
    for child in sorted(models_dir.iterdir()):
        if not child.is_dir() or child.name.startswith(".") or not (child / MANIFEST).exists():
            continue
        try:
            bundles.append(load_bundle(child))
        except BundleError as exc:
            logger.warning("skipping broken model bundle: %s", exc)
    return bundles


def find_bundle(models_dir: Path, kind: str, name: str | None = None) -> Bundle:
    """The installed bundle of `kind` called `name` (folder or manifest name), or the default one.

    With `name` None: the only bundle of that kind, else the one whose manifest says `"default": true`,
    else the first by name. `name` may also be a path to a bundle folder.
    """
    if name is not None and (os.sep in name or "/" in name) and Path(name).is_dir():
        bundle = load_bundle(Path(name))
        if bundle.kind != kind:
            raise BundleError(f"bundle {bundle.path} is a {bundle.kind!r} bundle, not {kind!r}")
        return bundle
    candidates = [b for b in list_bundles(models_dir) if b.kind == kind]
    if name is not None:
        matches = [b for b in candidates if name in (b.name, b.path.name, b.model_id)]
        if not matches:
            known = ", ".join(b.name for b in candidates) or "none"
            raise BundleError(f"no {kind} model bundle named {name!r} in {models_dir} (installed: {known})")
        return matches[0]
    if not candidates:
        raise BundleError(
            f"no {kind} model bundle installed in {models_dir}; install one with "
            f"'imago models install PATH_OR_ZIP' (or set IMAGO_MODELS / --models)"
        )
    defaults = [b for b in candidates if b.manifest.get("default") is True]
    return (defaults or candidates)[0]


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
        _check_free_space(dest.parent, total, src)
        try:
            for info in infos:
                _extract_entry(archive, info, dest, src)
        except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
            raise BundleError(f"cannot extract bundle archive {src}: {_reason(exc)}") from exc


def _check_zip_entry(src: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    if not _safe_relative(name.rstrip("/")) or name.startswith(("/", "\\")):
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
    return load_bundle(target)


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
    matches = [b for b in list_bundles(models_dir) if name in (b.name, b.path.name, b.model_id)]
    target = matches[0].path if matches else models_dir / name
    if not _safe_relative(name) or target.parent.resolve() != models_dir.resolve() or not target.is_dir():
        raise BundleError(f"no model bundle named {name!r} in {models_dir}")
    shutil.rmtree(target)
    logger.info("removed model bundle %s", target)
    return target


def write_manifest(folder: Path, manifest: dict) -> Bundle:
    """Fill in the sha256 of every file in `manifest['files']`, write manifest.json, return the bundle."""
    folder = Path(folder)
    manifest = dict(manifest)
    manifest.setdefault("format", FORMAT_VERSION)
    files = {}
    for role, entry in manifest["files"].items():
        rel = entry if isinstance(entry, str) else entry["path"]
        files[role] = {"path": rel, "sha256": sha256_file(folder / rel)}
    manifest["files"] = files
    ordered = {"format": manifest.pop("format"), **manifest}
    (folder / MANIFEST).write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return load_bundle(folder)
