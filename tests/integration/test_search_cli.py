"""`imago index` + `imago similar` / `imago search` on a generated archive with the tiny CLIP bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance, ImageOps

import main
from store.storage.archive import locate_index
from store.storage.catalog import Catalog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLIP_TINY = FIXTURES / "models" / "clip-tiny"
COPIES = {"pagoda/flipped.png", "pagoda/cropped.png", "pagoda/grey.png", "pagoda/recoloured.png"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("search-cli")
    models = root / "models"
    shutil.copytree(CLIP_TINY, models / "clip-tiny")
    archive = root / "archive"
    (archive / "pagoda").mkdir(parents=True)
    (archive / "other").mkdir()
    base = Image.open(FIXTURES / "images" / "pagoda.jpg").convert("RGB")
    w, h = base.size
    shutil.copy(FIXTURES / "images" / "pagoda.jpg", archive / "pagoda" / "original.jpg")
    shutil.copy(FIXTURES / "images" / "pagoda.jpg", archive / "other" / "scan_copy.jpg")
    ImageOps.mirror(base).save(archive / "pagoda" / "flipped.png")
    base.crop((w // 10, h // 10, w * 9 // 10, h * 9 // 10)).save(archive / "pagoda" / "cropped.png")
    ImageOps.grayscale(base).convert("RGB").save(archive / "pagoda" / "grey.png")
    Image.merge("RGB", base.split()[::-1]).save(archive / "pagoda" / "recoloured.png")
    for source in ("airplane_palette.png", "chandelier_alpha.png", "ewer_cmyk.jpg", "sunflower_grey.jpg"):
        image = Image.open(FIXTURES / "images" / source).convert("RGB")
        stem = Path(source).stem
        image.save(archive / "other" / f"{stem}.png")
        image.rotate(90, expand=True).save(archive / "other" / f"{stem}_rotated.png")
        ImageEnhance.Contrast(image).enhance(1.5).save(archive / "other" / f"{stem}_contrast.png")
    code = main.main(["index", str(archive), "--models", str(models), "--no-caption", "--json"])
    assert code == 0
    return archive, models


def run_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    code = main.main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def item_id(archive: Path, path: str) -> int:
    with Catalog(locate_index(archive).catalog_path) as catalog:
        file_id = catalog.file_id(path.encode())
        return catalog.item_ids(file_id)[0]


def test_similar_by_item_finds_exact_and_transformed_copies_first(indexed, capsys):
    archive, models = indexed
    query = item_id(archive, "pagoda/original.jpg")
    data = run_json(capsys, "similar", str(archive), "--item", str(query), "--json", "--all", "--top", "50",
                    "--models", str(models))  # fmt: skip
    results = data["results"]
    assert [r["item_id"] for r in results].count(query) == 0
    assert results[0]["path"] == "other/scan_copy.jpg" and "exact duplicate" in results[0]["why"][0]
    assert {r["path"] for r in results[1:5]} == COPIES
    assert len(results) == 4 + 1 + 12  # everything but the query
    for row in results:
        assert set(row) == {"item_id", "path", "score", "region", "why"}
        assert not Path(row["path"]).is_absolute()


def test_similar_by_external_file_and_region(indexed, capsys, tmp_path):
    archive, models = indexed
    query = tmp_path / "dropped.png"
    Image.open(FIXTURES / "images" / "pagoda.jpg").convert("RGB").save(query)  # same pixels, other bytes
    data = run_json(capsys, "similar", str(archive), str(query), "--json", "--all", "--top", "6",
                    "--models", str(models))  # fmt: skip
    assert {r["path"] for r in data["results"]} == COPIES | {"pagoda/original.jpg", "other/scan_copy.jpg"}
    # With the cut-off (the default) fewer, but the best one is still first.
    cut = run_json(capsys, "similar", str(archive), str(query), "--json", "--models", str(models))
    assert 0 < len(cut["results"]) < 17
    assert cut["results"][0]["path"] in ("pagoda/original.jpg", "other/scan_copy.jpg")
    with Catalog(locate_index(archive).catalog_path) as catalog:
        assert catalog.file_id(b"dropped.png") is None
    region = run_json(capsys, "similar", str(archive), str(query), "--region", "0,0,40,40", "--json",
                      "--models", str(models))  # fmt: skip
    assert region["results"]


def test_text_search_ranks_exact_description_first(indexed, capsys):
    archive, models = indexed
    target = item_id(archive, "other/ewer_cmyk_contrast.png")
    with Catalog(locate_index(archive).catalog_path) as catalog:
        catalog.set_description(target, "Кувшин с гравировкой, Тула — engraved ewer")
    for text in ("engraved ewer", "кувшин", "Кувшин Тула", 'ewer" OR *'):
        data = run_json(capsys, "search", str(archive), "--text", text, "--json", "--models", str(models))
        assert data["results"][0]["item_id"] == target, text
        assert any("description" in why for why in data["results"][0]["why"])


def test_cli_bad_input(indexed, capsys):
    archive, models = indexed
    assert main.main(["search", str(archive), "--text", "  ", "--models", str(models)]) == 1
    assert "empty" in capsys.readouterr().err
    assert main.main(["similar", str(archive), "--models", str(models)]) == 2  # neither IMAGE nor --item
    assert main.main(["similar", str(archive), "--item", "99999", "--models", str(models)]) == 1
    assert "99999" in capsys.readouterr().err
    assert (
        main.main(["similar", str(archive), "--item", "1", "--region", "1,2", "--models", str(models)]) == 1
    )
    assert main.main(["search", str(archive.parent / "nope"), "--text", "x"]) == 1
    # Keyword search still works without any model installed (the built-in image model has no text).
    (archive.parent / "no-models").mkdir(exist_ok=True)
    data = run_json(capsys, "search", str(archive), "--text", "sunflower rotated", "--json",
                    "--models", str(archive.parent / "no-models"))  # fmt: skip
    assert data["results"][0]["path"] == "other/sunflower_grey_rotated.png"


def test_similar_takes_archive_relative_paths_as_search_prints_them(indexed, capsys, tmp_path, monkeypatch):
    archive, models = indexed
    monkeypatch.chdir(tmp_path)  # the path does not exist from here, only inside the archive
    query = item_id(archive, "pagoda/original.jpg")
    common = ["--json", "--all", "--top", "50", "--models", str(models)]
    by_path = run_json(capsys, "similar", str(archive), "pagoda/original.jpg", *common)
    by_item = run_json(capsys, "similar", str(archive), "--item", str(query), *common)
    assert by_path == by_item  # the indexed item itself, not in its own results
    region = ["--region", "0,0,40,40"]
    assert run_json(capsys, "similar", str(archive), "pagoda/original.jpg", *region, *common) == run_json(
        capsys, "similar", str(archive), "--item", str(query), *region, *common
    )
    assert main.main(["similar", str(archive), "pagoda/nothing.jpg", "--models", str(models)]) == 1
    assert capsys.readouterr().err == "imago: error: image file not found: pagoda/nothing.jpg\n"


@pytest.mark.parametrize("date", ["file", "taken"])
def test_dates_at_the_ends_of_the_calendar(indexed, capsys, date):
    archive, models = indexed
    common = ["search", str(archive), "--text", "pagoda", "--json", "--all", "--models", str(models)]
    everything = run_json(capsys, *common)
    ends = run_json(capsys, *common, "--date", date, "--since", "0001-01-01", "--until", "9999-12-31")
    if date == "file":
        assert ends == everything
    else:  # generated PNGs have no EXIF date: none passes a date range
        assert ends["results"] == []
    assert main.main([*common, "--since", "9999-12-31"]) == 0
    assert main.main([*common, "--until", "0001-01-01"]) == 0
    assert main.main([*common, "--since", "10000-01-01"]) == 2
    assert "a date is YYYY-MM-DD" in capsys.readouterr().err


def test_duplicates_takes_models(indexed, capsys, tmp_path, monkeypatch):
    import store.services.export

    archive, models = indexed
    asked = []
    real = store.services.export.open_vector_index
    monkeypatch.setattr(
        store.services.export,
        "open_vector_index",
        lambda c, f, model_id=None: asked.append(model_id) or real(c, f, model_id),
    )
    default = run_json(capsys, "duplicates", str(archive), "--json")
    chosen = run_json(capsys, "duplicates", str(archive), "--json", "--models", str(models))
    assert chosen == default and chosen["groups"]
    assert asked == [None, "clip-tiny@1"]  # the archive's main model, then the one --models holds
    assert run_json(capsys, "duplicates", str(archive), "--json", "--models", str(CLIP_TINY)) == default
    assert main.main(["duplicates", str(archive), "--models", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("imago: error: model folder not found") and err.count("\n") == 1
