"""Exporter parity: tiny CLIP + multilingual checkpoints exported to ONNX vs transformers, directly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.export

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEXTS = ["a photo of a pagoda", "икона Богоматери", "🏛️ museum", "word " * 120]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import torch
    import transformers

    from models.export.clip import export_clip_bundle

    tmp = tmp_path_factory.mktemp("export")
    # the committed fixture's CLIP tokenizer (the real vocabulary) stands in for a checkpoint's tokenizer
    tok_dir = tmp / "tokenizer"
    tok_dir.mkdir()
    (tok_dir / "tokenizer.json").write_bytes(
        gzip.decompress((FIXTURES / "models/clip-tiny/tokenizer.json.gz").read_bytes())
    )
    transformers.CLIPTokenizerFast(
        tokenizer_file=str(tok_dir / "tokenizer.json"),
        model_max_length=77,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    ).save_pretrained(str(tok_dir))
    checkpoints = tmp / "checkpoints"
    tiny = export_clip_bundle(
        str(tok_dir),
        tmp / "tiny",
        text_model="sentence-transformers/clip-ViT-B-32-multilingual-v1",
        quantize="int8",
        tiny=True,
        checkpoint_dir=checkpoints,
    )
    # the non-tiny path, from local checkpoint folders laid out as on the Hugging Face Hub
    local = export_clip_bundle(
        str(checkpoints / "clip"),
        tmp / "local",
        text_model=str(checkpoints / "multilingual"),
        name="clip-local",
    )
    return torch, transformers, checkpoints, tiny, local


def cos(a, b):
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_exported_bundles_match_transformers(exported):
    from models.bundle import verify_bundle
    from models.clip import ClipImageEncoder, ClipTextEncoder
    from models.preprocess import to_rgb

    torch, transformers, checkpoints, tiny, local = exported
    model = transformers.CLIPModel.from_pretrained(str(checkpoints / "clip")).eval()
    processor = transformers.CLIPImageProcessor.from_pretrained(str(checkpoints / "clip"))
    tokenizer = transformers.CLIPTokenizerFast.from_pretrained(str(checkpoints / "clip"))
    images = [to_rgb(Image.open(p)) for p in sorted((FIXTURES / "images").glob("*.*")) if p.suffix != ".md"]
    with torch.no_grad():
        pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
        image_ref = model.get_image_features(pixel_values=pixel_values).numpy()
        enc = tokenizer(TEXTS, padding=True, truncation=True, max_length=77, return_tensors="pt")
        text_ref = model.get_text_features(**enc).numpy()
    st = transformers.DistilBertModel.from_pretrained(str(checkpoints / "multilingual")).eval()
    st_tok = transformers.AutoTokenizer.from_pretrained(str(checkpoints / "multilingual"))
    from safetensors.torch import load_file

    dense = load_file(str(checkpoints / "multilingual" / "2_Dense" / "model.safetensors"))["linear.weight"]
    with torch.no_grad():
        enc = st_tok(TEXTS, padding=True, truncation=True, max_length=128, return_tensors="pt")
        hidden = st(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        multi_ref = (((hidden * mask).sum(1) / mask.sum(1)) @ dense.T).numpy()

    for bundle in (tiny, local):
        verify_bundle(bundle)
        assert cos(ClipImageEncoder(bundle, quantized=False).encode(images), image_ref).min() >= 0.9999
        assert cos(ClipTextEncoder(bundle, tower="clip").encode(TEXTS), text_ref).min() >= 0.9999
        assert cos(ClipTextEncoder(bundle, tower="multilingual").encode(TEXTS), multi_ref).min() >= 0.9999
    int8 = ClipImageEncoder(tiny, quantized=True).encode(images)
    assert cos(int8, image_ref).mean() >= 0.99
    assert "image_int8" not in local.manifest["files"]
    manifest = json.loads((tiny.path / "manifest.json").read_text())
    assert manifest["logit_scale"] == pytest.approx(float(model.logit_scale.detach().exp()))
    assert manifest["preprocessing"]["crop_size"] == [32, 32]


def test_export_refuses_a_non_empty_output_folder(exported, tmp_path):
    from models.errors import InputError
    from models.export.clip import export_clip_bundle

    (tmp_path / "keep.txt").write_text("user data")
    with pytest.raises(InputError, match="not empty"):
        export_clip_bundle("unused", tmp_path, tiny=True)
    with pytest.raises(InputError, match="only 'int8'"):
        export_clip_bundle("unused", tmp_path / "new", quantize="int4")


def test_failed_export_leaves_no_partial_bundle(exported, tmp_path):
    from models.errors import InputError
    from models.export.clip import export_clip_bundle

    with pytest.raises(InputError, match="BPE merges"):
        export_clip_bundle(str(tmp_path / "no-such-vocabulary"), tmp_path / "out", tiny=True)
    assert not (tmp_path / "out").exists()


def test_cli_export_tiny(exported, tmp_path, capsys):
    import main

    _, _, checkpoints, _, _ = exported
    code = main.main(
        [
            "models",
            "export",
            "clip",
            str(checkpoints / "clip"),
            "--out",
            str(tmp_path / "b"),
            "--tiny",
            "--quantize",
            "int8",
            "--default-precision",
            "int8",
            "--name",
            "clip-cli",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "exported clip-cli@1" in out
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["image_tower"] == {"default": "int8"} and "text_multilingual" not in manifest["files"]
