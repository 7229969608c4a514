"""Bundle manifests: validation, hashing, install (folder/zip, atomic, traversal-safe), find, remove."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from models.bundle import MANIFEST, find_bundle, list_bundles, load_bundle, verify_bundle, write_manifest
from models.bundle_install import install_bundle, remove_bundle
from models.errors import BundleError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "clip-tiny"


def make_bundle(folder: Path, name: str = "toy", kind: str = "head", **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "head.onnx").write_bytes(b"not really onnx, but hashed")
    manifest = {
        "kind": kind,
        "name": name,
        "version": "2",
        "source": "test",
        "license": "MIT",
        "files": {"model": "head.onnx"},
        "embedding_dim": 4,
        **extra,
    }
    write_manifest(folder, manifest)
    return folder


def edit_manifest(folder: Path, **changes) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest.update(changes)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_fixture_bundle_loads_and_verifies():
    bundle = verify_bundle(load_bundle(FIXTURE))
    assert bundle.kind == "clip" and bundle.name == "clip-tiny" and bundle.model_id == "clip-tiny@1"
    assert bundle.file("image") == FIXTURE / "image.onnx"
    assert bundle.manifest["preprocessing"]["crop_size"] == [32, 32]
    assert {"image", "image_int8", "text", "tokenizer", "text_multilingual", "tokenizer_multilingual"} <= set(
        bundle.manifest["files"]
    )


def test_unknown_role_is_named(tmp_path):
    bundle = load_bundle(make_bundle(tmp_path / "b"))
    with pytest.raises(BundleError, match="role 'decoder'"):
        bundle.file("decoder")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": 2}, "unsupported manifest format 2"),
        ({"kind": "vae"}, "field 'kind'"),
        ({"name": ""}, "field 'name'"),
        ({"name": "../evil"}, "not a valid folder name"),
        ({"version": 3}, "field 'version'"),
        ({"files": []}, "field 'files'"),
        ({"files": {"model": {"path": "../x.onnx", "sha256": "0" * 64}}}, "leaves the bundle folder"),
        ({"files": {"model": {"path": "/etc/passwd", "sha256": "0" * 64}}}, "leaves the bundle folder"),
        ({"files": {"model": {"path": "head.onnx", "sha256": "abc"}}}, "sha256 must be"),
        ({"files": {"other": {"path": "head.onnx", "sha256": "0" * 64}}}, "needs a file with role 'model'"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"preprocessing": {"size": -1}}, "preprocessing.size"),
    ],
)
def test_invalid_manifest_names_the_field(tmp_path, changes, message):
    folder = make_bundle(tmp_path / "b")
    edit_manifest(folder, **changes)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


def test_missing_manifest_file_and_folder(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        load_bundle(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        load_bundle(tmp_path / "empty")
    folder = make_bundle(tmp_path / "b")
    (folder / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="cannot read"):
        load_bundle(folder)
    folder = make_bundle(tmp_path / "c")
    (folder / "head.onnx").unlink()
    with pytest.raises(BundleError, match=r"'head\.onnx' \(role 'model'\) is missing"):
        load_bundle(folder)


def test_verify_detects_a_wrong_hash(tmp_path):
    folder = make_bundle(tmp_path / "b")
    (folder / "head.onnx").write_bytes(b"tampered")
    bundle = load_bundle(folder)  # loading does not hash
    with pytest.raises(BundleError, match=r"'head\.onnx' \(role 'model'\) has sha256"):
        verify_bundle(bundle)


def test_install_from_folder_copies_only_named_files(tmp_path):
    src = make_bundle(tmp_path / "src")
    (src / "stray.txt").write_text("not in the manifest")
    models = tmp_path / "models"
    bundle = install_bundle(src, models)
    assert bundle.path == models / "toy"
    assert sorted(p.name for p in bundle.path.iterdir()) == ["head.onnx", MANIFEST]
    assert [p.name for p in models.iterdir()] == ["toy"]  # no staging leftovers
    with pytest.raises(BundleError, match="already installed"):
        install_bundle(src, models)
    (src / "head.onnx").write_bytes(b"new weights")
    write_manifest(src, json.loads((src / MANIFEST).read_text()))
    assert install_bundle(src, models, replace=True).file("model").read_bytes() == b"new weights"
    assert [p.name for p in models.iterdir()] == ["toy"]


def test_install_fixture_from_zip_with_top_folder(tmp_path):
    archive = tmp_path / "clip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in FIXTURE.iterdir():
            zf.write(path, f"clip-tiny/{path.name}")
    bundle = install_bundle(archive, tmp_path / "models")
    assert bundle.path == tmp_path / "models" / "clip-tiny"
    verify_bundle(bundle)


@pytest.mark.parametrize("entry", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt", "C:/evil.txt"])
def test_install_refuses_path_traversal(tmp_path, entry):
    src = make_bundle(tmp_path / "src")
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(src / MANIFEST, MANIFEST)
        zf.write(src / "head.onnx", "head.onnx")
        zf.writestr(entry, "x")
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="unsafe entry"):
        install_bundle(archive, models)
    assert not (tmp_path / "evil.txt").exists()
    assert list(models.iterdir()) == []


def test_install_with_a_wrong_hash_leaves_nothing(tmp_path):
    src = make_bundle(tmp_path / "src")
    (src / "head.onnx").write_bytes(b"corrupted in transit")
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="has sha256"):
        install_bundle(src, models)
    assert list(models.iterdir()) == []


def test_install_rejects_non_bundles(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        install_bundle(tmp_path / "missing.zip", tmp_path / "models")
    (tmp_path / "junk.zip").write_bytes(b"PK not a zip")
    with pytest.raises(BundleError, match="cannot open bundle archive"):
        install_bundle(tmp_path / "junk.zip", tmp_path / "models")
    (tmp_path / "plain").mkdir()
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        install_bundle(tmp_path / "plain", tmp_path / "models")


def test_find_list_and_remove(tmp_path):
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="no clip model bundle installed"):
        find_bundle(models, "clip")
    install_bundle(FIXTURE, models)
    make_bundle(models / "head-a", name="head-a")
    make_bundle(models / "head-b", name="head-b", default=True)
    broken = models / "broken"
    broken.mkdir()
    (broken / MANIFEST).write_text("[]")
    assert [b.name for b in list_bundles(models)] == ["clip-tiny", "head-a", "head-b"]
    assert find_bundle(models, "clip").name == "clip-tiny"
    assert find_bundle(models, "head").name == "head-b"  # marked default
    assert find_bundle(models, "head", "head-a@2").name == "head-a"
    assert find_bundle(models, "clip", str(FIXTURE)).path == FIXTURE
    with pytest.raises(BundleError, match=r"no head model bundle named 'zzz'.*installed: head-a, head-b"):
        find_bundle(models, "head", "zzz")
    with pytest.raises(BundleError, match="not 'head'"):
        find_bundle(models, "head", str(FIXTURE))
    assert remove_bundle(models, "head-a") == models / "head-a"
    assert not (models / "head-a").exists()
    for bad in ("head-a", "..", "../models"):
        with pytest.raises(BundleError, match="no model bundle named"):
            remove_bundle(models, bad)
    shutil.rmtree(broken)
    assert [b.name for b in list_bundles(models)] == ["clip-tiny", "head-b"]


def test_failed_zip_install_cleans_up(tmp_path):
    """A zip whose manifest is broken leaves no staging folder behind."""
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(MANIFEST, json.dumps({"format": 1, "kind": "clip"}))
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="field 'name'"):
        install_bundle(archive, models)
    assert list(models.iterdir()) == []


def test_clip_sections_are_validated(tmp_path):
    folder = tmp_path / "clip"
    shutil.copytree(FIXTURE, folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    for changes, message in [
        ({"logit_scale": -1}, "logit_scale"),
        ({"image_tower": {"default": "int4"}}, "image_tower.default"),
        (
            {"text_towers": {"clip": {"model": "text", "tokenizer": "tokenizer"}}},
            r"text_towers\.clip\.max_length",
        ),
        (
            {"text_towers": {"x": {"model": "nope", "tokenizer": "tokenizer", "max_length": 7, "pad_id": 0}}},
            "'nope'",
        ),
        ({"preprocessing": None}, "preprocessing"),
    ]:
        edited = {**manifest, **changes}
        if changes.get("preprocessing", 1) is None:
            del edited["preprocessing"]
        (folder / MANIFEST).write_text(json.dumps(edited))
        with pytest.raises(BundleError, match=message):
            load_bundle(folder)


def _zip_with(tmp_path: Path, entry: zipfile.ZipInfo | str, data: bytes = b"x") -> Path:
    """A valid head bundle zip plus one extra entry."""
    src = make_bundle(tmp_path / "src")
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(src / MANIFEST, MANIFEST)
        zf.write(src / "head.onnx", "head.onnx")
        zf.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return archive


def test_install_refuses_backslash_traversal(tmp_path):
    """Windows reads `..\\evil.onnx` as `../evil.onnx`: refused in a zip and in a manifest path."""
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="unsafe entry"):
        install_bundle(_zip_with(tmp_path, "..\\evil.onnx"), models)
    with pytest.raises(BundleError, match="unsafe entry"):
        install_bundle(_zip_with(tmp_path / "b", "sub\\..\\..\\evil.onnx"), models)
    assert list(models.iterdir()) == []
    folder = make_bundle(tmp_path / "c")
    edit_manifest(folder, files={"model": {"path": "..\\head.onnx", "sha256": "0" * 64}})
    with pytest.raises(BundleError, match="leaves the bundle folder"):
        install_bundle(folder, models)


def test_install_refuses_a_symlink_entry_in_a_zip(tmp_path):
    link = zipfile.ZipInfo("tokenizer.json")
    link.external_attr = (0o120777 << 16) | 0x10  # S_IFLNK | rwxrwxrwx, as `zip --symlinks` writes it
    archive = _zip_with(tmp_path, link, b"/etc/passwd")
    models = tmp_path / "models"
    with pytest.raises(BundleError, match=r"symbolic link entry 'tokenizer\.json'"):
        install_bundle(archive, models)
    assert list(models.iterdir()) == []


@pytest.mark.parametrize(
    "entry",
    ["CON", "nul.onnx", "aux.onnx", "COM1.txt", "sub/LPT9", "Com3.Onnx", "evil.onnx.", "evil.onnx ",
     "head.onnx:stream", "a<b.onnx"],
)  # fmt: skip
def test_install_refuses_windows_reserved_names(tmp_path, entry):
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="unsafe entry"):
        install_bundle(_zip_with(tmp_path, entry), models)
    assert list(models.iterdir()) == []
    folder = make_bundle(tmp_path / "f")
    edit_manifest(folder, files={"model": {"path": entry, "sha256": "0" * 64}})
    with pytest.raises(BundleError, match="leaves the bundle folder"):
        load_bundle(folder)


def test_ordinary_names_that_look_reserved_are_fine(tmp_path):
    from models.bundle import safe_relative as _safe_relative

    for rel in ("console.onnx", "nullable/x.onnx", "com10.onnx", "aux_head.onnx", "sub/.hidden", "a.b.c"):
        assert _safe_relative(rel), rel


def test_install_refuses_a_zip_bomb(tmp_path):
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="zip bomb"):
        install_bundle(_zip_with(tmp_path, "padding.bin", bytes(8 << 20)), models)
    assert list(models.iterdir()) == []


def test_install_refuses_a_zip_over_the_size_limit(tmp_path, monkeypatch):
    import models.bundle_install as bundle_module

    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", 1000)
    archive = _zip_with(tmp_path, "weights.bin", os.urandom(2000))
    with pytest.raises(BundleError, match="unpacks to"):
        install_bundle(archive, tmp_path / "models")
    folder = make_bundle(tmp_path / "big")
    (folder / "head.onnx").write_bytes(os.urandom(2000))
    write_manifest(folder, json.loads((folder / MANIFEST).read_text()))
    with pytest.raises(BundleError, match=r"at most 0 GiB"):
        install_bundle(folder, tmp_path / "models")


def test_install_checks_free_disk_space_first(tmp_path, monkeypatch):
    import models.bundle_install as bundle_module

    usage = shutil.disk_usage(tmp_path)._replace(free=1000)
    monkeypatch.setattr(bundle_module.shutil, "disk_usage", lambda _: usage)
    with pytest.raises(BundleError, match="not enough disk space"):
        install_bundle(_zip_with(tmp_path, "extra.txt"), tmp_path / "models")


def test_disk_full_while_copying_is_one_clear_error(tmp_path, monkeypatch):
    import errno

    import models.bundle_install as bundle_module

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(bundle_module.shutil, "copy2", full)
    models = tmp_path / "models"
    with pytest.raises(BundleError, match="No space left on device") as caught:
        install_bundle(make_bundle(tmp_path / "src"), models)
    assert "\n" not in str(caught.value)
    assert list(models.iterdir()) == []


def test_install_refuses_symlinks_in_a_bundle_folder(tmp_path):
    secret = tmp_path / "secret.onnx"
    secret.write_bytes(b"not really onnx, but hashed")  # same bytes as make_bundle's head.onnx
    folder = make_bundle(tmp_path / "src")
    (folder / "head.onnx").unlink()
    (folder / "head.onnx").symlink_to(secret)
    models = tmp_path / "models"
    with pytest.raises(BundleError, match=r"head\.onnx is a symbolic link"):
        install_bundle(folder, models)
    # a file reached through a symlinked folder
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(secret, outside / "head.onnx")
    nested = make_bundle(tmp_path / "nested")
    (nested / "sub").symlink_to(outside)
    write_manifest(
        nested, {**json.loads((nested / MANIFEST).read_text()), "files": {"model": "sub/head.onnx"}}
    )
    with pytest.raises(BundleError, match="sub is a symbolic link"):
        install_bundle(nested, models)
    # a symlinked manifest
    linked = make_bundle(tmp_path / "linked")
    (tmp_path / "manifest-copy.json").write_text((linked / MANIFEST).read_text())
    (linked / MANIFEST).unlink()
    (linked / MANIFEST).symlink_to(tmp_path / "manifest-copy.json")
    with pytest.raises(BundleError, match=r"manifest\.json is a symbolic link"):
        install_bundle(linked, models)
    assert list(models.iterdir()) == []


def test_install_refuses_a_fifo_instead_of_a_zip(tmp_path):
    fifo = tmp_path / "bundle.zip"
    os.mkfifo(fifo)
    with pytest.raises(BundleError, match=r"neither a bundle folder nor a \.zip file"):
        install_bundle(fifo, tmp_path / "models")
