"""Bundle behaviours that mutation testing (tools/mutation) found unchecked: manifest rules at their
boundaries and defaults, the messages a user reads, Windows names and locales, and how a name given
on the command line is told from a folder."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from test_models_bundle import edit_manifest, make_bundle

import models.bundle as bundle_module
from models.bundle import (
    MANIFEST,
    find_bundle,
    has_bundle,
    list_bundles,
    load_bundle,
    safe_relative,
    sha256_file,
    write_manifest,
)
from models.errors import BundleError, BundleNotFoundError, InputError


def _refused(call, *args, error=BundleError) -> str:
    with pytest.raises(error) as info:
        call(*args)
    return str(info.value)


def _clip(folder: Path, **extra) -> Path:
    """A minimal clip bundle (files are not real models: loading does not run them)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for role in ("image", "text", "tokenizer", *extra.pop("more_roles", ())):
        (folder / f"{role}.bin").write_bytes(role.encode())
        files[role] = f"{role}.bin"
    manifest = {"kind": "clip", "name": folder.name, "version": "1", "files": files, "embedding_dim": 8,
                "preprocessing": {"size": 8}, **extra}  # fmt: skip
    write_manifest(folder, manifest)
    return folder


# --- manifest rules -----------------------------------------------------------------------------------------


def test_clip_sections_have_defaults(tmp_path):
    """No logit_scale, image_tower or text_towers: a valid clip bundle all the same."""
    assert load_bundle(_clip(tmp_path / "c")).kind == "clip"


@pytest.mark.parametrize("scale", [0.5, 1, 100.0])
def test_any_positive_logit_scale_is_accepted(tmp_path, scale):
    assert load_bundle(_clip(tmp_path / "c", logit_scale=scale)).manifest["logit_scale"] == scale


@pytest.mark.parametrize("scale", [0, -1.0, True, "big"])
def test_logit_scale_must_be_a_positive_number(tmp_path, scale):
    folder = _clip(tmp_path / "c")
    edit_manifest(folder, logit_scale=scale)
    assert _refused(load_bundle, folder) == (
        f"{folder / MANIFEST}: field 'logit_scale' must be a positive number, not {scale!r}"
    )


def test_int8_image_tower_needs_its_file(tmp_path):
    with_int8 = _clip(tmp_path / "c", more_roles=("image_int8",), image_tower={"default": "int8"})
    assert load_bundle(with_int8).manifest["image_tower"] == {"default": "int8"}
    without = _clip(tmp_path / "d")
    edit_manifest(without, image_tower={"default": "int8"})
    assert _refused(load_bundle, without) == (
        f"{without / MANIFEST}: image_tower.default 'int8' needs to be 'fp32' or 'int8' (with image_int8)"
    )
    assert load_bundle(_clip(tmp_path / "e", image_tower={"default": "fp32"})).kind == "clip"


def test_messages_of_malformed_manifests(tmp_path):
    folder = make_bundle(tmp_path / "b")
    where = folder / MANIFEST
    cases = [
        ([], "manifest is not a JSON object"),
        ({"kind": "vae"}, "field 'kind' is 'vae', expected one of clip, git, head, image"),
        ({"files": {"model": "head.onnx"}}, "files.model must be an object with a 'path'"),
        ({"preprocessing": {"size": 0}}, "preprocessing.size must be a positive integer, not 0"),
    ]
    original = json.loads(where.read_text())
    for change, message in cases:
        where.write_text(json.dumps(change if isinstance(change, list) else {**original, **change}))
        assert _refused(load_bundle, folder) == f"{where}: {message}"
    clip = _clip(tmp_path / "c")
    edit_manifest(clip, text_towers=[])
    assert _refused(load_bundle, clip) == f"{clip / MANIFEST}: field 'text_towers' must be an object"


@pytest.mark.parametrize("name", ["a/b", "a\\b", ".hidden", "CON"])  # a backslash nests on Windows
def test_bundle_name_must_be_a_plain_folder_name(tmp_path, name):
    folder = make_bundle(tmp_path / "b")
    edit_manifest(folder, name=name)
    assert (
        _refused(load_bundle, folder)
        == f"{folder / MANIFEST}: field 'name' {name!r} is not a valid folder name"
    )


@pytest.mark.parametrize("name", ["XLM-clip", "clip-B32", "ViT_x.2"])
def test_bundle_names_with_capitals_and_dots_inside_are_valid(tmp_path, name):
    folder = make_bundle(tmp_path / "b")
    edit_manifest(folder, name=name)
    assert load_bundle(folder).manifest["name"] == name


@pytest.mark.parametrize("kind", ["clip", "image"])
def test_embedding_dim_is_required_for_embedding_bundles(tmp_path, kind):
    folder = _clip(tmp_path / "c")
    edit_manifest(folder, kind=kind, embedding_dim=None, files={**json.loads((folder / MANIFEST).read_text())[
        "files"], "model": {"path": "image.bin", "sha256": "0" * 64}})  # fmt: skip
    assert _refused(load_bundle, folder) == (
        f"{folder / MANIFEST}: field 'embedding_dim' must be a positive integer, not None"
    )


def test_one_dimensional_embeddings_are_allowed(tmp_path):
    assert load_bundle(make_bundle(tmp_path / "b", embedding_dim=1)).manifest["embedding_dim"] == 1


def test_image_bundles_need_their_model_section(tmp_path):
    folder = make_bundle(tmp_path / "b")
    edit_manifest(folder, kind="image", preprocessing={"size": 8})
    assert (
        _refused(load_bundle, folder) == f"{folder / MANIFEST}: an image bundle needs an 'image_model' object"
    )


def test_manifests_are_utf8_whatever_the_locale(tmp_path, monkeypatch):
    """Windows machines read and write text in their ANSI code page unless told otherwise."""
    monkeypatch.setattr(io, "text_encoding", lambda encoding, stacklevel=2: encoding or "cp1252")
    folder = make_bundle(tmp_path / "b", source="Музей Тулы", license="© музей")
    assert load_bundle(folder).manifest["source"] == "Музей Тулы"
    assert json.loads((folder / MANIFEST).read_bytes().decode("utf-8"))["license"] == "© музей"


# --- paths --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "safe"),
    [
        (None, False),
        (5, False),
        ("", False),
        ("CON .onnx", False),  # Windows ignores the trailing space: still the console device
        ("NULX.onnx", True),
        (" CON.onnx", True),
        ("models/aux.txt", False),
        ("a/b.onnx", True),
    ],
)
def test_safe_relative(rel, safe):
    assert safe_relative(rel) is safe


def test_hashing_reads_in_blocks(tmp_path, monkeypatch):
    """Bundles hold multi-GiB graphs: hashing must not read a whole file into memory."""
    path = tmp_path / "big.onnx"
    path.write_bytes(b"\x01" * (3 << 20))
    reads: list[int] = []

    class Recording(io.FileIO):
        def read(self, n=-1):
            data = super().read(n)
            reads.append(len(data))
            return data

    monkeypatch.setattr(bundle_module, "open", lambda p, mode="rb": Recording(p, "r"), raising=False)
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert max(reads) <= 1 << 20


# --- listing and finding ------------------------------------------------------------------------------------


def test_list_skips_hidden_and_non_bundle_folders_but_goes_on(tmp_path):
    models = tmp_path / "models"
    make_bundle(models / ".install-x1y2", name="staged")  # an interrupted install's staging folder
    (models / "aaa-notes").mkdir()  # sorted before the bundle, no manifest
    make_bundle(models / "toy")
    assert [b.name for b in list_bundles(models)] == ["toy"]


def test_has_bundle_is_per_kind(tmp_path):
    make_bundle(tmp_path / "models" / "toy")
    assert has_bundle(tmp_path / "models", "head") and not has_bundle(tmp_path / "models", "clip")


def test_find_messages(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    assert _refused(find_bundle, models, None, "nope", error=BundleNotFoundError) == (
        f"no model bundle named 'nope' in {models}"
    )
    assert _refused(find_bundle, models, "clip", "nope", error=BundleNotFoundError) == (
        f"no clip model bundle named 'nope' in {models} (installed: none)"
    )
    assert (
        _refused(find_bundle, models, None, error=InputError)
        == "name the model bundle (its name or its folder)"
    )


def test_a_bundle_folder_in_the_current_folder_is_found_by_its_folder_name(tmp_path, monkeypatch):
    make_bundle(tmp_path / "work" / "fresh", name="fresh")
    monkeypatch.chdir(tmp_path / "work")
    assert find_bundle(tmp_path / "models", "head", "fresh").path == Path("fresh")


def test_a_plain_folder_named_like_an_installed_bundle_does_not_hide_it(tmp_path, monkeypatch):
    models = tmp_path / "models"
    make_bundle(models / "toy")
    (tmp_path / "work" / "toy").mkdir(parents=True)  # no manifest: just a folder called toy
    monkeypatch.chdir(tmp_path / "work")
    assert find_bundle(models, "head", "toy").path == models / "toy"


def test_windows_forward_slash_paths_are_folders(tmp_path, monkeypatch):
    (tmp_path / "work" / "not-a-bundle").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bundle_module.os, "sep", "\\")
    assert "no manifest.json" in _refused(find_bundle, tmp_path / "models", "head", "work/not-a-bundle")


def test_has_tells_which_roles_the_bundle_ships(tmp_path):
    bundle = load_bundle(make_bundle(tmp_path / "b"))
    assert bundle.has("model") and not bundle.has("labels")
