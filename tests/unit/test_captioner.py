"""GIT captioner on the committed tiny bundles: token-id parity with transformers, bad input, bad bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.bundle import load_bundle
from models.captioner import GitCaptioner, caption_files, open_captioner
from models.errors import BundleError, ImageDecodeError, InputError
from models.preprocess import load_image, preprocess
from store.protocols import Captioner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IMAGES = FIXTURES / "images"
BUNDLES = {shape: FIXTURES / "models" / f"git-tiny-{shape}" for shape in ("base", "large")}
CASES = {  # reference case name -> (beams, repetition_penalty, no_repeat_ngram_size)
    "greedy": (1, None, None),
    "beam3": (3, None, None),
    "greedy_penalised": (1, 1.3, 3),
    "beam3_penalised": (3, 1.3, 3),
    "beam4_ngram2": (4, None, 2),
}


def _reference(shape: str) -> dict:
    return json.loads((BUNDLES[shape] / "reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def captioners():
    made = {}
    yield lambda shape, beams=1, penalty=None, ngram=None: made.setdefault(
        (shape, beams, penalty, ngram),
        GitCaptioner(
            BUNDLES[shape], beams=beams, max_tokens=20, repetition_penalty=penalty, no_repeat_ngram_size=ngram
        ),
    )
    for captioner in made.values():
        captioner.close()


@pytest.mark.parametrize("shape", ["base", "large"])
@pytest.mark.parametrize("case", list(CASES))
def test_token_ids_match_transformers_generate(captioners, shape, case):
    reference = _reference(shape)
    images = [load_image(IMAGES / name) for name in reference["images"]]
    beams, penalty, ngram = CASES[case]
    results = captioners(shape, beams, penalty, ngram).describe(images)
    expected = reference["cases"][case]
    assert [r.token_ids for r in results] == [e["token_ids"] for e in expected]
    assert [r.text for r in results] == [e["caption"] for e in expected]


BEAM_IMAGES = FIXTURES / "models" / "git-beam-images"


def _beam_reference(shape: str) -> dict:
    return json.loads((BUNDLES[shape] / "beam-reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def beam_bundles(tmp_path_factory):
    """Copies of the tiny bundles whose manifests carry each case's length_penalty and early_stopping."""
    made = {}

    def bundle(shape: str, case: str) -> Path:
        if (shape, case) not in made:
            spec = _beam_reference(shape)["cases"][case]
            folder = tmp_path_factory.mktemp("beam") / f"git-tiny-{shape}"
            shutil.copytree(BUNDLES[shape], folder)
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            manifest["generation"]["length_penalty"] = spec["length_penalty"]
            manifest["generation"]["early_stopping"] = spec["early_stopping"]
            (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
            made[shape, case] = folder
        return made[shape, case]

    return bundle


@pytest.mark.parametrize("shape", ["base", "large"])
@pytest.mark.parametrize(
    "case", list(json.loads((BUNDLES["base"] / "beam-reference.json").read_text())["cases"])
)
def test_beam_search_settings_from_the_manifest_match_transformers(beam_bundles, shape, case):
    """early_stopping True/False/"never" and length_penalty 0.5/1/2, read from the manifest; the images
    were chosen so that each case has captions that depend on the setting and on finished beams
    ranked between `beams` and `2*beams` being turned away (see git_beam_references.py)."""
    reference = _beam_reference(shape)
    spec = reference["cases"][case]
    images = [load_image(BEAM_IMAGES / name) for name in reference["images"]]
    captioner = GitCaptioner(beam_bundles(shape, case), beams=spec["num_beams"], max_tokens=20)
    assert captioner.settings.length_penalty == spec["length_penalty"]
    assert captioner.settings.early_stopping == spec["early_stopping"]
    try:
        assert captioner.generate(images) == spec["token_ids"]
    finally:
        captioner.close()


def test_beam_references_differ_by_setting():
    """The settings change captions on these images: otherwise the cases above would test nothing."""
    for shape in ("base", "large"):
        cases = _beam_reference(shape)["cases"]
        outputs = {name: cases[name]["token_ids"] for name in cases}
        assert outputs["beam3_early_true"] != outputs["beam3"] != outputs["beam3_lp2"]
        assert (
            outputs["beam3_lp0.5"] != outputs["beam3"] and outputs["beam3_lp2_never"] != outputs["beam3_lp2"]
        )
        ends = [ids[-1] for rows in outputs.values() for ids in rows]
        assert 3 in ends and any(len(ids) == 20 and ids[-1] != 3 for rows in outputs.values() for ids in rows)


def test_references_cover_early_stops_and_full_length():
    """The fixtures must exercise both stopping paths and image-dependent outputs, or parity proves less."""
    for shape in BUNDLES:
        eos = load_bundle(BUNDLES[shape]).manifest["git"]["eos_token_id"]
        for case, rows in _reference(shape)["cases"].items():
            ids = [r["token_ids"] for r in rows]
            assert len({tuple(i) for i in ids}) > 1, (shape, case)
            assert any(i[-1] == eos and len(i) < 20 for i in ids), (shape, case)
        greedy, beam = (_reference(shape)["cases"][c] for c in ("greedy", "beam3"))
        assert any(len(r["token_ids"]) == 20 and eos not in r["token_ids"] for r in greedy + beam), shape


def test_batch_greedy_equals_one_by_one(captioners):
    captioner = captioners("base")
    images = [load_image(p) for p in sorted(IMAGES.glob("*.*g"))]
    together = captioner.generate(images)
    alone = [captioner.generate([im])[0] for im in images]
    assert together == alone


def test_satisfies_store_protocol_and_model_id(captioners):
    captioner = captioners("base")
    assert isinstance(captioner, Captioner)
    assert captioner.model_id == "git-tiny-base@1"
    assert captioner.caption([]) == []


def test_max_tokens_caps_length():
    captioner = GitCaptioner(BUNDLES["large"], max_tokens=3)
    images = [load_image(p) for p in sorted(IMAGES.glob("*.*g"))]
    ids = captioner.generate(images)
    assert all(1 <= len(row) <= 3 for row in ids)
    full = GitCaptioner(BUNDLES["large"], max_tokens=20).generate(images)
    assert [row[:3] for row in full] == ids


def test_close_then_reuse(captioners):
    captioner = GitCaptioner(BUNDLES["base"])
    image = load_image(IMAGES / "pagoda.jpg")
    first = captioner.caption([image])
    captioner.close()
    assert captioner.caption([image]) == first


ODD_IMAGES = {  # id -> (odd image, the plain RGB colour it shows)
    "1x1": (Image.new("RGB", (1, 1), (200, 10, 10)), (200, 10, 10)),
    "wide": (Image.new("RGB", (6000, 40), (0, 90, 200)), (0, 90, 200)),
    "huge-grey": (Image.new("L", (3000, 2500), 128), (128, 128, 128)),
    "cmyk": (Image.new("CMYK", (50, 70), (10, 200, 30, 5)), Image.new("CMYK", (1, 1), (10, 200, 30, 5))),
    "alpha": (Image.new("RGBA", (64, 32), (255, 0, 0, 0)), (255, 255, 255)),  # transparent: the white page
    "grey-alpha": (Image.new("LA", (20, 20), (170, 255)), (170, 170, 170)),
    "16-bit": (Image.fromarray(np.full((40, 30), 40000, dtype=np.uint16)), (156, 156, 156)),  # 40000 >> 8
    "palette": (Image.new("P", (33, 17)), (0, 0, 0)),  # index 0 of the default palette
}


@pytest.mark.parametrize("name", list(ODD_IMAGES))
def test_odd_images_caption_as_the_colour_they_show(captioners, name):
    """Any size, mode or bit depth captions as the same picture in plain 8-bit RGB would."""
    image, colour = ODD_IMAGES[name]
    if isinstance(colour, Image.Image):
        colour = colour.convert("RGB").getpixel((0, 0))
    captioner = captioners("base")
    reference = Image.new("RGB", (64, 64), colour)
    pixels = preprocess([image, reference], captioner.spec)
    np.testing.assert_allclose(pixels[0], pixels[1], rtol=0, atol=1e-6)
    [got] = captioner.describe([image])
    [plain] = captioner.describe([reference])
    assert got == plain and got.token_ids


def test_plain_colours_caption_differently(captioners):
    """Otherwise the test above could not tell a wrong colour conversion from a right one."""
    colours = {colour if isinstance(colour, tuple) else None for _, colour in ODD_IMAGES.values()} - {None}
    captioner = captioners("base")
    ids = captioner.generate([Image.new("RGB", (64, 64), c) for c in sorted(colours)])
    assert len({tuple(i) for i in ids}) == len(colours)


def test_corrupt_file_names_the_path(captioners, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes((IMAGES / "pagoda.jpg").read_bytes()[:200])
    with pytest.raises(ImageDecodeError, match=r"broken\.jpg"):
        caption_files(captioners("base"), [IMAGES / "pagoda.jpg", bad])


def test_caption_files_keeps_order(captioners):
    paths = sorted(IMAGES.glob("*.*g"))
    results = caption_files(captioners("base"), paths, batch=2)
    assert [p for p, _ in results] == paths
    expected = {
        e: r for e, r in zip(_reference("base")["images"], _reference("base")["cases"]["greedy"], strict=True)
    }
    assert [c.token_ids for _, c in results] == [expected[p.name]["token_ids"] for p in paths]


# -- bad bundles ------------------------------------------------------------------------------------


def _copy(shape: str, tmp_path: Path) -> Path:
    target = tmp_path / f"git-tiny-{shape}"
    shutil.copytree(BUNDLES[shape], target)
    return target


def _edit_manifest(folder: Path, edit) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_missing_decoder_graph_is_named(tmp_path):
    folder = _copy("base", tmp_path)
    (folder / "decoder.onnx").unlink()
    with pytest.raises(BundleError, match=r"decoder\.onnx"):
        GitCaptioner(folder)


def test_manifest_without_decoder_role_is_refused(tmp_path):
    folder = _copy("base", tmp_path)
    _edit_manifest(folder, lambda m: m["files"].pop("decoder"))
    with pytest.raises(BundleError, match="decoder"):
        GitCaptioner(folder)


def test_wrong_vocabulary_size_is_reported_at_load(tmp_path):
    folder = _copy("base", tmp_path)
    _edit_manifest(folder, lambda m: m["git"].update(vocab_size=30522))
    captioner = GitCaptioner(folder)
    with pytest.raises(BundleError, match=r"tokenizer\.json.*30522"):
        captioner.load()


def test_tokenizer_of_another_model_is_reported(tmp_path):
    folder = _copy("base", tmp_path)
    tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["model"]["vocab"]["extraword"] = len(tokenizer["model"]["vocab"])
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    with pytest.raises(BundleError, match=r"tokenizer\.json"):
        GitCaptioner(folder).load()


def test_graph_that_does_not_match_the_manifest_is_named(tmp_path):
    folder = _copy("base", tmp_path)
    shutil.copy(folder / "image.onnx", folder / "decoder.onnx")
    with pytest.raises(BundleError, match=r"decoder\.onnx"):
        GitCaptioner(folder).load()


def test_non_git_bundle_and_bad_options_are_refused(tmp_path):
    folder = _copy("base", tmp_path)
    _edit_manifest(folder, lambda m: m["git"].pop("num_layers"))
    with pytest.raises(BundleError, match="num_layers"):
        GitCaptioner(folder)
    with pytest.raises(InputError):
        GitCaptioner(BUNDLES["base"], beams=0)
    with pytest.raises(InputError):
        GitCaptioner(BUNDLES["base"], max_tokens=1000)


def test_open_captioner_by_name_folder_and_fallback(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(BUNDLES["large"], models / "git-tiny-large")
    assert open_captioner(models, "git-tiny-large").model_id == "git-tiny-large@1"
    assert open_captioner(models, str(BUNDLES["base"])).model_id == "git-tiny-base@1"
    # a settings default that is not installed falls back to the installed bundle ...
    assert open_captioner(models, "git-base", explicit=False).model_id == "git-tiny-large@1"
    # ... but a name the user typed must exist
    with pytest.raises(BundleError, match="git-base"):
        open_captioner(models, "git-base")
