"""The `models` and `classify` subcommands end to end on the tiny fixture bundle."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUNDLE = FIXTURES / "models" / "clip-tiny"
REF = np.load(FIXTURES / "models" / "clip-tiny-reference.npz")
META = json.loads((FIXTURES / "models" / "clip-tiny-reference.json").read_text(encoding="utf-8"))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def models(tmp_path, capsys):
    folder = tmp_path / "models"
    archive = tmp_path / "clip-tiny.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in BUNDLE.iterdir():
            zf.write(path, path.name)
    code, out, _ = run(capsys, "models", "install", str(archive), "--models", str(folder))
    assert code == 0 and "installed clip-tiny@1" in out
    return folder


def test_list_verify_remove(models, capsys):
    code, out, _ = run(capsys, "models", "list", "--json", "--models", str(models))
    listed = json.loads(out)["bundles"]
    assert code == 0 and [(b["name"], b["kind"], b["model_id"]) for b in listed] == [
        ("clip-tiny", "clip", "clip-tiny@1")
    ]
    code, out, _ = run(capsys, "models", "verify", "--models", str(models))
    assert code == 0 and "ok clip-tiny@1 (7 files)" in out
    (models / "clip-tiny" / "text.onnx").write_bytes(b"flipped bits")
    code, _, err = run(capsys, "models", "verify", "clip-tiny", "--models", str(models))
    assert code == 1 and "'text.onnx' (role 'text') has sha256" in err
    code, out, _ = run(capsys, "models", "remove", "clip-tiny", "--models", str(models))
    assert code == 0 and not (models / "clip-tiny").exists()
    code, _, err = run(capsys, "models", "remove", "clip-tiny", "--models", str(models))
    assert code == 1 and "no model bundle named 'clip-tiny'" in err


def test_models_dir_defaults_to_imago_models(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("IMAGO_MODELS", str(tmp_path / "env-models"))
    code, _, _ = run(capsys, "models", "install", str(BUNDLE))
    assert code == 0 and (tmp_path / "env-models" / "clip-tiny" / "manifest.json").is_file()


def test_embed_images_json_matches_reference(models, capsys):
    images = [str(FIXTURES / "images" / name) for name in META["images"]]
    code, out, _ = run(
        capsys, "models", "embed", "clip-tiny", "--image", *images, "--json", "--models", str(models)
    )
    result = json.loads(out)
    assert code == 0 and result["model"] == "clip-tiny@1" and result["dim"] == 16
    vectors = np.array(result["vectors"], dtype=np.float32)
    assert ((vectors * REF["image_embeds"]).sum(axis=1) >= 0.9999).all()


def test_embed_texts_from_a_folder_without_installing(capsys):
    texts = ["икона Богоматери", "a photo of a steam locomotive"]
    code, out, _ = run(capsys, "models", "embed", str(BUNDLE), "--text", *texts, "--json")
    result = json.loads(out)
    assert code == 0 and result["model"] == "clip-tiny@1-multilingual"
    expected = REF["multilingual_embeds"][[META["texts"].index(t) for t in texts]]
    assert ((np.array(result["vectors"]) * expected).sum(axis=1) >= 0.9999).all()
    code, out, _ = run(capsys, "models", "embed", str(BUNDLE), "--text", "a photo", "--tower", "clip")
    assert code == 0 and "clip-tiny@1-text" in out


def test_embed_errors_are_one_line(models, capsys, tmp_path):
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    code, _, err = run(
        capsys, "models", "embed", "clip-tiny", "--image", str(not_image), "--models", str(models)
    )
    assert code == 1 and err.startswith("imago: error: cannot decode image") and "notes.txt" in err
    code, _, err = run(capsys, "models", "embed", "clip-tiny", "--text", "", "--models", str(models))
    assert code == 1 and "text #0 is empty" in err
    code, _, err = run(capsys, "models", "embed", "nope", "--text", "x", "--models", str(models))
    assert code == 1 and "no clip model bundle named 'nope'" in err
    code, _, err = run(
        capsys, "models", "embed", "clip-tiny", "--text", "x", "--models", str(tmp_path / "empty")
    )
    assert code == 1 and "no clip model bundle named" in err


def test_unknown_manifest_version_is_reported(tmp_path, capsys):
    folder = tmp_path / "clip"
    shutil.copytree(BUNDLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "models", "install", str(folder), "--models", str(tmp_path / "models"))
    assert code == 1 and "unsupported manifest format 99" in err


def test_classify_json_and_text(models, capsys):
    image = str(FIXTURES / "images" / "pagoda.jpg")
    code, out, _ = run(capsys, "classify", image, "--json", "--top", "3", "--models", str(models))
    (result,) = json.loads(out)
    assert code == 0 and result["image"] == image and set(result["heads"]) == {"category", "name"}
    for head in result["heads"].values():
        probabilities = [p for _, p in head["top"]]
        assert len(probabilities) == 3 and probabilities == sorted(probabilities, reverse=True)
        assert head["model"].startswith("zeroshot-")
    code, out, _ = run(capsys, "classify", image, "--head", "name", "--models", str(models))
    assert code == 0 and "name:" in out and "category:" not in out


def test_classify_train_then_classify(models, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    rows = ["path,label"]
    for name in META["images"]:
        label = "architecture" if name.startswith("pagoda") else "object"
        rows.append(f"{FIXTURES / 'images' / name},{label}")
    labels.write_text("\n".join(rows) + "\n")
    code, out, _ = run(
        capsys,
        "classify",
        "train",
        "--labels",
        str(labels),
        "--head",
        "category",
        "--json",
        "--models",
        str(models),
    )
    report = json.loads(out)
    assert code == 0 and report["metrics"]["examples"] == 5 and report["metrics"]["classes"] == 2
    assert (models / "head-category-clip-tiny" / "head.onnx").is_file()
    code, out, _ = run(
        capsys, "classify", str(FIXTURES / "images" / "pagoda.jpg"), "--json", "--models", str(models)
    )
    (result,) = json.loads(out)
    assert result["heads"]["category"]["model"] == report["bundle"]
    assert report["bundle"].startswith("head-category-clip-tiny@20")
    assert {label for label, _ in result["heads"]["category"]["top"]} == {"architecture", "object"}
    assert result["heads"]["name"]["model"].startswith("zeroshot-")


def test_classify_train_from_stored_embeddings(models, tmp_path, capsys):
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(30, 16)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = np.array(["bridge", "church", "ship"] * 10)
    np.savez(tmp_path / "stored.npz", embeddings=embeddings, labels=labels)
    code, out, _ = run(
        capsys,
        "classify",
        "train",
        "--embeddings",
        str(tmp_path / "stored.npz"),
        "--head",
        "name",
        "--models",
        str(models),
    )
    assert code == 0 and re.search(
        r"trained name head head-name-clip-tiny@\d{14}: 30 examples, 3 labels", out
    )
    np.savez(tmp_path / "wrong.npz", embeddings=embeddings[:, :8], labels=labels)
    code, _, err = run(
        capsys, "classify", "train", "--embeddings", str(tmp_path / "wrong.npz"), "--models", str(models)
    )
    assert code == 1 and "dimension 16" in err


def test_export_git_dispatches_to_the_git_exporter(monkeypatch, tmp_path, capsys):
    import models.export.git
    from models.bundle import load_bundle

    calls = []

    def fake_export(src, out_dir, tiny=None):
        calls.append((src, out_dir, tiny))
        return load_bundle(BUNDLE)

    monkeypatch.setattr(models.export.git, "export_git_bundle", fake_export)
    code, out, _ = run(
        capsys, "models", "export", "git", "microsoft/git-base", "--out", str(tmp_path / "g"), "--tiny"
    )
    assert code == 0 and calls == [("microsoft/git-base", tmp_path / "g", "base")]
    assert "exported clip-tiny@1" in out  # what the (fake) exporter returned
    run(capsys, "models", "export", "git", "x", "--out", str(tmp_path / "g"), "--tiny", "large")
    assert calls[-1][2] == "large"
    run(capsys, "models", "export", "git", "x", "--out", str(tmp_path / "g"))
    assert calls[-1][2] is None


def test_classify_train_from_the_curators_labels_in_an_archive(models, tmp_path, capsys):
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    archive = tmp_path / "archive"
    archive.mkdir()
    for name in META["images"]:
        shutil.copy(FIXTURES / "images" / name, archive / name)
    code, _, _ = run(capsys, "index", str(archive), "--no-caption", "--json", "--models", str(models))
    assert code == 0
    with Catalog(locate_index(archive).catalog_path) as catalog:
        for name in META["images"]:
            (item,) = catalog.item_ids(catalog.file_id(name.encode()))
            catalog.set_curator_labels(item, "category", ["flora" if "sunflower" in name else "object"])
    code, out, _ = run(
        capsys, "classify", "train", "--archive", str(archive), "--head", "category", "--holdout", "0",
        "--json", "--models", str(models),
    )  # fmt: skip
    report = json.loads(out)
    assert code == 0 and report["metrics"]["examples"] == 5 and report["metrics"]["classes"] == 2
    code, out, _ = run(capsys, "classify", str(archive / "pagoda.jpg"), "--json", "--models", str(models))
    (result,) = json.loads(out)
    assert result["heads"]["category"]["model"] == report["bundle"]
    assert {label for label, _ in result["heads"]["category"]["top"]} == {"flora", "object"}


def test_classify_train_from_an_unindexed_archive_is_a_clear_error(models, tmp_path, capsys):
    code, _, err = run(capsys, "classify", "train", "--archive", str(tmp_path), "--models", str(models))
    assert code == 1 and "has not been indexed yet" in err


def test_install_of_a_hostile_zip_is_one_line(tmp_path, capsys):
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in BUNDLE.iterdir():
            zf.write(path, path.name)
        zf.writestr("..\\evil.onnx", b"x")
    code, out, err = run(capsys, "models", "install", str(archive), "--models", str(tmp_path / "models"))
    assert (code, out) == (1, "")
    assert err == f"imago: error: refusing bundle archive {archive}: unsafe entry '..\\\\evil.onnx'\n"
    assert list((tmp_path / "models").iterdir()) == []
