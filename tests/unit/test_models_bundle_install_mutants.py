"""Install and removal behaviours that mutation testing (tools/mutation) found unchecked: limits at their
boundary and the figures in their messages, zips written elsewhere (Windows, macOS), nested folders,
streaming extraction, putting the previous bundle back, removal by model id."""

from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from test_models_bundle import _zip_with, make_bundle

import models.bundle_install as install_module
from models.bundle import MANIFEST, load_bundle, write_manifest
from models.bundle_install import install_bundle, remove_bundle
from models.errors import BundleError


def _refused(*args, **kwargs) -> str:
    with pytest.raises(BundleError) as info:
        install_bundle(*args, **kwargs)
    return str(info.value)


def _zip(tmp_path: Path, entries: dict[str, bytes | None], name: str = "b.zip") -> Path:
    """A zip of `entries` (name -> data; None: a folder entry)."""
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, b"" if data is None else data)
    return archive


def _bundle_entries(tmp_path: Path, prefix: str = "", **extra) -> dict[str, bytes | None]:
    src = make_bundle(tmp_path / "src", **extra)
    return {
        f"{prefix}{MANIFEST}": (src / MANIFEST).read_bytes(),
        f"{prefix}head.onnx": (src / "head.onnx").read_bytes(),
    }


# --- zips written elsewhere ---------------------------------------------------------------------------------


def test_zip_from_macos_with_resource_forks_and_dot_files(tmp_path):
    entries = _bundle_entries(tmp_path, prefix="toy/")
    entries |= {"__MACOSX/toy/._manifest.json": b"x", ".DS_Store": b"x"}
    assert install_bundle(_zip(tmp_path, entries), tmp_path / "models").name == "toy"


def test_zip_with_folder_entries_in_any_order(tmp_path):
    entries = {
        "toy/deep/er/": None,
        **_bundle_entries(tmp_path, prefix="toy/"),
        "toy/": None,
        "toy/deep/": None,
    }
    assert install_bundle(_zip(tmp_path, entries), tmp_path / "models").name == "toy"


def test_zip_with_windows_separators(tmp_path):
    src = make_bundle(tmp_path / "src")
    (src / "sub").mkdir()
    (src / "sub" / "vocab.txt").write_text("a\nb\n")
    write_manifest(
        src, {**load_bundle(src).manifest, "files": {"model": "head.onnx", "labels": "sub/vocab.txt"}}
    )
    entries = {MANIFEST: (src / MANIFEST).read_bytes(), "head.onnx": (src / "head.onnx").read_bytes(),
               "sub\\vocab.txt": b"a\nb\n"}  # fmt: skip
    bundle = install_bundle(_zip(tmp_path, entries), tmp_path / "models")
    assert bundle.file("labels").read_text() == "a\nb\n"


def test_entry_names_ending_like_a_device_are_fine(tmp_path):
    entries = _bundle_entries(tmp_path) | {"NULX": b"x"}
    assert install_bundle(_zip(tmp_path, entries), tmp_path / "models").name == "toy"


def test_zip_entries_are_extracted_in_blocks(tmp_path, monkeypatch):
    sizes: list[int] = []
    read = zipfile.ZipExtFile.read

    def recording(self, n=-1):
        sizes.append(n)
        return read(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", recording)
    install_bundle(_zip(tmp_path, _bundle_entries(tmp_path)), tmp_path / "models")
    assert sizes and all(0 < n <= 1 << 20 for n in sizes)


# --- limits and their messages ----------------------------------------------------------------------------


def test_entry_count_limit_is_inclusive(tmp_path, monkeypatch):
    archive = _zip(tmp_path, _bundle_entries(tmp_path))
    monkeypatch.setattr(install_module, "MAX_ZIP_ENTRIES", 2)
    assert install_bundle(archive, tmp_path / "models").name == "toy"
    monkeypatch.setattr(install_module, "MAX_ZIP_ENTRIES", 1)
    assert (
        _refused(archive, tmp_path / "other") == f"refusing bundle archive {archive}: 2 entries (at most 1)"
    )


def test_size_limit_counts_every_entry_and_is_inclusive(tmp_path, monkeypatch):
    entries = _bundle_entries(tmp_path)
    archive = _zip(tmp_path, entries)
    total = sum(len(data) for data in entries.values())
    monkeypatch.setattr(install_module, "MAX_BUNDLE_BYTES", total)
    assert install_bundle(archive, tmp_path / "models").name == "toy"
    monkeypatch.setattr(install_module, "MAX_BUNDLE_BYTES", total - 1)
    assert "it unpacks to" in _refused(archive, tmp_path / "other")


def test_oversized_zip_message_gives_gib(tmp_path, monkeypatch):
    archive = _zip(tmp_path, _bundle_entries(tmp_path))
    infolist = zipfile.ZipFile.infolist

    def claiming_big(self):
        infos = infolist(self)
        for info in infos:
            info.file_size = info.compress_size = 17 << 29  # 8.5 GiB each, as a header may say
        return infos

    monkeypatch.setattr(zipfile.ZipFile, "infolist", claiming_big)
    assert _refused(archive, tmp_path / "models") == (
        f"refusing bundle archive {archive}: it unpacks to 17.0 GiB (at most 16 GiB)"
    )


def test_oversized_folder_message_gives_gib(tmp_path):
    src = make_bundle(tmp_path / "src")
    with open(src / "head.onnx", "r+b") as fh:
        fh.truncate(17 << 30)  # sparse: no disk used; the manifest's hash is not checked before the size
    assert _refused(src, tmp_path / "models") == f"refusing bundle {src}: 17.0 GiB (at most 16 GiB)"


def test_free_space_margin_and_message(tmp_path, monkeypatch):
    payload = os.urandom(3 << 20)  # incompressible: not a zip bomb
    entries = _bundle_entries(tmp_path) | {"extra.bin": payload}
    archive = _zip(tmp_path, entries)
    needed = sum(len(data) for data in entries.values())
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        install_module.shutil, "disk_usage", lambda _: usage._replace(free=needed + (64 << 20))
    )
    assert install_bundle(archive, tmp_path / "models").name == "toy"
    monkeypatch.setattr(
        install_module.shutil, "disk_usage", lambda _: usage._replace(free=needed + (60 << 20))
    )
    message = _refused(archive, tmp_path / "other")
    # the model folder is named, not the hidden staging folder inside it
    into = tmp_path / "other"
    assert message == f"not enough disk space to install {archive} into {into}: it needs 3 MiB, 63 MiB free"


def test_zip_bomb_message_and_thresholds(tmp_path, monkeypatch):
    zeros = bytes(2 << 20)
    archive = _zip(tmp_path, _bundle_entries(tmp_path) | {"padding.bin": zeros})
    info = zipfile.ZipFile(archive).getinfo("padding.bin")
    ratio = info.file_size // info.compress_size
    assert _refused(archive, tmp_path / "models") == (
        f"refusing bundle archive {archive}: entry 'padding.bin' expands {ratio} times (a zip bomb?)"
    )
    monkeypatch.setattr(install_module, "MAX_ZIP_RATIO", ratio)  # at the limit: accepted
    assert install_bundle(archive, tmp_path / "models").name == "toy"
    small = _zip(tmp_path, _bundle_entries(tmp_path) | {"padding.bin": bytes(1 << 20)}, name="small.zip")
    monkeypatch.setattr(install_module, "MAX_ZIP_RATIO", 2)
    assert install_bundle(small, tmp_path / "m2").name == "toy"  # 1 MiB entries may compress as they like


def test_damaged_zip_data_is_one_clear_error(tmp_path):
    archive = _zip(tmp_path, _bundle_entries(tmp_path) | {"noise.bin": os.urandom(4096)})
    data = bytearray(archive.read_bytes())
    data[data.find(b"noise.bin") + 100] ^= 0xFF  # inside the entry's compressed data
    archive.write_bytes(bytes(data))
    message = _refused(archive, tmp_path / "models")
    assert message.startswith(f"cannot extract bundle archive {archive}: ") and "None" not in message
    assert message.removeprefix(f"cannot extract bundle archive {archive}: ") not in (
        "",
        "BadZipFile",
        "error",
    )


def test_entry_that_is_not_a_file_or_folder(tmp_path):
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = 0o010644 << 16  # S_IFIFO
    archive = _zip_with(tmp_path, fifo, b"")
    assert _refused(archive, tmp_path / "models") == (
        f"refusing bundle archive {archive}: entry 'pipe' is not a file or folder"
    )


def test_os_errors_are_reported_with_their_file(tmp_path, monkeypatch):
    src = make_bundle(tmp_path / "src")
    models = tmp_path / "models"
    for error, reason in [
        (
            OSError(errno.ENOSPC, "No space left on device", "/m/head.onnx"),
            "No space left on device: /m/head.onnx",
        ),
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    ]:
        monkeypatch.setattr(
            install_module.shutil, "copy2", lambda *a, error=error, **k: (_ for _ in ()).throw(error)
        )
        assert _refused(src, models) == f"cannot install bundle {src} into {models}: {reason}"


# --- folders ----------------------------------------------------------------------------------------------


def test_folder_without_a_manifest_at_its_top(tmp_path):
    plain = tmp_path / "plain"
    (plain / "a").mkdir(parents=True)
    (plain / "b").mkdir()
    assert (
        _refused(plain, tmp_path / "models")
        == f"{plain} is not a model bundle: no {MANIFEST} at its top level"
    )


def test_folder_bundle_in_a_single_subfolder_or_behind_a_link(tmp_path):
    make_bundle(tmp_path / "download" / "toy")
    assert install_bundle(tmp_path / "download", tmp_path / "models").name == "toy"
    (tmp_path / "link").symlink_to(tmp_path / "download" / "toy")
    assert install_bundle(tmp_path / "link", tmp_path / "m2").name == "toy"  # the user's own link: followed
    linked = tmp_path / "wrapper"
    linked.mkdir()
    (linked / "toy").symlink_to(tmp_path / "download" / "toy")
    assert (
        _refused(linked, tmp_path / "m3") == f"refusing bundle {linked}: {linked / 'toy'} is a symbolic link"
    )


def test_files_in_nested_folders_and_a_new_nested_model_folder(tmp_path):
    src = make_bundle(tmp_path / "src")
    (src / "a" / "b").mkdir(parents=True)
    shutil.move(src / "head.onnx", src / "a" / "b" / "head.onnx")
    write_manifest(src, {**json.loads((src / MANIFEST).read_text()), "files": {"model": "a/b/head.onnx"}})
    bundle = install_bundle(src, tmp_path / "new" / "deep" / "models")
    assert bundle.file("model").read_bytes() == b"not really onnx, but hashed"


# --- staging, replacing, removing ---------------------------------------------------------------------------


def test_staging_is_a_hidden_folder_inside_the_model_folder(tmp_path, monkeypatch):
    seen: list[Path] = []
    verify = install_module.verify_bundle

    def spying(folder):
        seen.append(Path(folder))
        return verify(folder)

    monkeypatch.setattr(install_module, "verify_bundle", spying)
    models = tmp_path / "models"
    install_bundle(make_bundle(tmp_path / "src"), models)
    assert seen[0].parent == models and seen[0].name.startswith(".install-")


def test_a_failed_replace_puts_the_previous_bundle_back(tmp_path, monkeypatch):
    models = tmp_path / "models"
    install_bundle(make_bundle(tmp_path / "v1"), models)
    before = (models / "toy" / MANIFEST).read_bytes()
    moves: list[tuple[Path, Path]] = []
    replace = os.replace

    def failing_into_place(src, dst):
        moves.append((Path(src), Path(dst)))
        if Path(dst) == models / "toy" and Path(src).name.startswith(".install-"):
            raise OSError(errno.EACCES, "Permission denied")
        replace(src, dst)

    monkeypatch.setattr(install_module.os, "replace", failing_into_place)
    newer = make_bundle(tmp_path / "v2", source="newer")
    assert "Permission denied" in _refused(newer, models, replace=True)
    assert (models / "toy" / MANIFEST).read_bytes() == before
    aside = moves[0][1]
    assert aside.parent.parent == models and aside.parent.name.startswith(".install-")
    assert sorted(p.name for p in models.iterdir()) == ["toy"]  # no staging or aside folder left


def test_remove_by_model_id(tmp_path):
    models = tmp_path / "models"
    install_bundle(make_bundle(tmp_path / "src"), models)
    assert remove_bundle(models, "toy@2") == models / "toy" and not (models / "toy").exists()


def test_folder_paths_are_checked_as_windows_reads_them(tmp_path):
    """A manifest path with a backslash names a nested file on Windows: a file literally called so is
    not that file."""
    src = make_bundle(tmp_path / "src")
    shutil.move(src / "head.onnx", src / "sub\\head.onnx")
    manifest = json.loads((src / MANIFEST).read_text())
    manifest["files"]["model"]["path"] = "sub\\head.onnx"
    (src / MANIFEST).write_text(json.dumps(manifest))
    assert _refused(src, tmp_path / "models") == f"bundle {src}: file 'sub\\\\head.onnx' is missing"


def test_folder_size_limit_is_inclusive(tmp_path, monkeypatch):
    src = make_bundle(tmp_path / "src")
    monkeypatch.setattr(install_module, "MAX_BUNDLE_BYTES", (src / "head.onnx").stat().st_size)
    assert install_bundle(src, tmp_path / "models").name == "toy"


def test_unwritable_model_folder_and_zip_without_manifest(tmp_path):
    (tmp_path / "models").write_text("a file, not a folder")
    assert _refused(make_bundle(tmp_path / "src"), tmp_path / "models").startswith(
        f"cannot write to the model folder {tmp_path / 'models'}: "
    )
    archive = _zip(tmp_path, {"readme.txt": b"x"})
    assert (
        _refused(archive, tmp_path / "m2")
        == f"{archive} is not a model bundle: no {MANIFEST} at its top level"
    )


def test_an_entry_cut_short_is_named_by_its_error(tmp_path, monkeypatch):
    def cut_short(self, n=-1):
        raise EOFError  # what zipfile raises, without a message, when an entry's data ends early

    archive = _zip(tmp_path, _bundle_entries(tmp_path))
    monkeypatch.setattr(zipfile.ZipExtFile, "read", cut_short)
    assert _refused(archive, tmp_path / "models") == f"cannot extract bundle archive {archive}: EOFError"
