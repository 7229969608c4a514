"""Re-export tiny GIT checkpoints and compare the ONNX captioner with transformers directly (needs torch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main

pytestmark = pytest.mark.export

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IMAGES = sorted(p for p in (FIXTURES / "images").iterdir() if p.suffix in (".jpg", ".png"))
CASES = {"greedy": (1, None, None), "beam3_penalised": (3, 1.3, 3), "beam4_ngram2": (4, None, 2)}


@pytest.mark.parametrize("shape", ["base", "large"])
def test_reexported_tiny_git_matches_transformers(shape, tmp_path, capsys):
    from models.captioner import GitCaptioner
    from models.export.tiny_git import build_tiny_git, reference_outputs
    from models.preprocess import load_image

    out = tmp_path / f"git-tiny-{shape}"
    argv = ["models", "export", "git", f"microsoft/git-{shape}-coco", "--out", str(out), "--tiny", shape]
    assert main.main(argv) == 0
    assert f"git-tiny-{shape}@1" in capsys.readouterr().out

    model, tokenizer = build_tiny_git(shape)
    images = [load_image(p) for p in IMAGES]
    expected = reference_outputs(model, tokenizer, images)
    for case, (beams, penalty, ngram) in CASES.items():
        captioner = GitCaptioner(out, beams=beams, repetition_penalty=penalty, no_repeat_ngram_size=ngram)
        got = captioner.describe(images)
        assert [c.token_ids for c in got] == [e["token_ids"] for e in expected[case]], case
        assert [c.text for c in got] == [e["caption"] for e in expected[case]], case

    # the committed fixture still is what transformers produces for this tiny model
    committed = json.loads((FIXTURES / "models" / f"git-tiny-{shape}" / "reference.json").read_text("utf-8"))
    assert committed["images"] == [p.name for p in IMAGES]
    assert committed["cases"] == expected


def test_exported_graphs_keep_git_masking(tmp_path):
    """Image tokens must not see text: the image rows of the cache are the same whatever the text."""
    import numpy as np

    from models.captioner import GitCaptioner
    from models.export.git import export_git_bundle
    from models.preprocess import load_image, preprocess

    bundle = export_git_bundle("microsoft/git-base-coco", tmp_path / "b", tiny="base")
    captioner = GitCaptioner(bundle)
    captioner.load()
    pixels = preprocess([load_image(IMAGES[0])], captioner.spec)
    features = captioner._image_session.run(["image_features"], {"pixel_values": pixels})[0]
    git = captioner.git
    empty = np.zeros((1, git["num_heads"], 0, git["head_dim"]), dtype=np.float32)
    presents = []
    for text in ([[git["bos_token_id"]]], [[git["bos_token_id"], 40, 41]]):
        feeds = {f"past_{k}_{i}": empty for i in range(git["num_layers"]) for k in ("key", "value")}
        feeds |= {"image_features": features, "input_ids": np.array(text, dtype=np.int64)}
        presents.append(captioner._decoder_session.run(None, feeds)[1:])
    n = git["num_image_tokens"]
    for short, long in zip(*presents, strict=True):
        np.testing.assert_allclose(short[:, :, :n], long[:, :, :n], rtol=0, atol=1e-6)
        # text is causal: the first text token's cache entry does not depend on later tokens
        np.testing.assert_allclose(short[:, :, n], long[:, :, n], rtol=0, atol=1e-6)


def test_checkpoint_folder_export_path(tmp_path):
    """The non-tiny path: a saved GitForCausalLM + GitProcessor folder exports to the same token ids."""
    from transformers import BertTokenizerFast, CLIPImageProcessor, GitProcessor

    from models.captioner import GitCaptioner
    from models.export.git import export_git_bundle
    from models.export.tiny_git import build_tiny_git, reference_outputs
    from models.preprocess import load_image

    model, tokenizer = build_tiny_git("large")
    size = model.config.vision_config.image_size
    processor = GitProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": size}, crop_size=size),
        tokenizer=BertTokenizerFast(tokenizer_object=tokenizer, clean_up_tokenization_spaces=True),
    )
    checkpoint = tmp_path / "git-large-coco"
    model.save_pretrained(checkpoint)
    processor.save_pretrained(checkpoint)
    bundle = export_git_bundle(str(checkpoint), tmp_path / "bundle")
    assert bundle.name == "git-large"
    images = [load_image(p) for p in IMAGES]
    expected = reference_outputs(model, tokenizer, images)
    got = GitCaptioner(bundle, beams=3).describe(images)
    assert [c.token_ids for c in got] == [e["token_ids"] for e in expected["beam3"]]
    assert [c.text for c in got] == [e["caption"] for e in expected["beam3"]]


@pytest.mark.parametrize("shape", ["base", "large"])
def test_committed_beam_references_are_what_transformers_generates(shape):
    """beam-reference.json (length_penalty, early_stopping cases) still is transformers' output."""
    import importlib.util

    from models.export.tiny_git import build_tiny_git
    from models.preprocess import load_image

    script = FIXTURES / "models" / "git_beam_references.py"
    spec = importlib.util.spec_from_file_location("git_beam_references", script)
    references = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(references)
    committed = json.loads(
        (FIXTURES / "models" / f"git-tiny-{shape}" / "beam-reference.json").read_text("utf-8")
    )
    assert committed["images"] == references.image_names()
    images = [load_image(references.IMAGE_DIR / name) for name in committed["images"]]
    model, tokenizer = build_tiny_git(shape)
    assert committed["cases"] == references.beam_references(model, tokenizer, images)
