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

`find_bundle` is the one way from a bundle name or folder to a bundle; installing and removing bundles
is in `models.bundle_install`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from models.errors import BundleError, BundleNotFoundError, InputError

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
KINDS = ("clip", "git", "head", "image")
_REQUIRED_ROLES = {"clip": ("image", "text", "tokenizer"), "head": ("model",), "git": (), "image": ("model",)}


INT8_SUFFIX = "-int8"  # an int8 image tower's model id: its vectors differ slightly from the fp32 one's


def base_model_id(model_id: str) -> str:
    """The model id without its precision suffix (an int8 tower shares the fp32 one's space)."""
    return model_id.removesuffix(INT8_SUFFIX)


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

    def is_named(self, name: str) -> bool:
        """Whether `name` names this bundle: its manifest name, its folder name or its model id."""
        return name in (self.name, self.path.name, self.model_id)

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


def safe_relative(rel: str) -> bool:
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
    name = manifest["name"]
    if not safe_relative(name) or any(sep in name for sep in "/\\") or name.startswith("."):
        raise BundleError(f"{where}: field 'name' {manifest['name']!r} is not a valid folder name")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BundleError(f"{where}: field 'files' must be an object of role -> {{path, sha256}}")
    for role, entry in files.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise BundleError(f"{where}: files.{role} must be an object with a 'path'")
        if not safe_relative(entry["path"]):
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


def list_bundles(models_dir: Path, kind: str | None = None) -> list[Bundle]:
    """Valid bundles (of `kind`, when given) installed in `models_dir`, sorted by folder name; invalid
    folders are logged and skipped."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    bundles = []
    for child in sorted(models_dir.iterdir()):
        if not child.is_dir() or child.name.startswith(".") or not (child / MANIFEST).exists():
            continue
        try:
            bundle = load_bundle(child)
        except BundleError as exc:
            logger.warning("skipping broken model bundle: %s", exc)
            continue
        if kind in (None, bundle.kind):
            bundles.append(bundle)
    return bundles


def has_bundle(models_dir: Path, kind: str) -> bool:
    """Whether a valid bundle of `kind` is installed in `models_dir`."""
    return bool(list_bundles(models_dir, kind))


def find_bundle(models_dir: Path, kind: str | None, name: str | None = None) -> Bundle:
    """The bundle `name` means; every lookup of a bundle by name or folder goes through here.

    - a path to a bundle folder (it has a path separator, or the folder holds manifest.json): that
      bundle, installed or not;
    - else the bundle installed in `models_dir` whose name, folder name or model id is `name`;
    - `name` None: the installed bundle of `kind`: the only one, else the one whose manifest says
      `"default": true`, else the first by name.

    With `kind`, a bundle of another kind is refused; `kind` None accepts any kind (and needs a name).
    BundleNotFoundError when no installed bundle answers to the name (or none of the kind is installed).
    """
    if name is not None and _is_folder(name):
        bundle = load_bundle(Path(name))
        if kind is not None and bundle.kind != kind:
            raise BundleError(f"bundle {bundle.path} is a {bundle.kind!r} bundle, not {kind!r}")
        return bundle
    candidates = list_bundles(models_dir, kind)
    if name is not None:
        matches = [b for b in candidates if b.is_named(name)]
        if matches:
            return matches[0]
        if kind is None:
            raise BundleNotFoundError(f"no model bundle named {name!r} in {models_dir}")
        known = ", ".join(b.name for b in candidates) or "none"
        raise BundleNotFoundError(
            f"no {kind} model bundle named {name!r} in {models_dir} (installed: {known})"
        )
    if kind is None:
        raise InputError("name the model bundle (its name or its folder)")
    if not candidates:
        raise BundleNotFoundError(
            f"no {kind} model bundle installed in {models_dir}; install one with "
            f"'imago models install PATH_OR_ZIP' (or set IMAGO_MODELS / --models)"
        )
    defaults = [b for b in candidates if b.manifest.get("default") is True]
    return (defaults or candidates)[0]


def _is_folder(name: str) -> bool:
    """Whether a bundle name the user gave is a path to a folder rather than an installed bundle's name."""
    path = Path(name)
    return (path / MANIFEST).is_file() or ((os.sep in name or "/" in name) and path.is_dir())
