"""Export GIT (`GitForCausalLM`) checkpoints to an Imago "git" bundle: two ONNX graphs + tokenizer.

optimum has no GIT exporter, so the graphs are traced here with `torch.onnx.export` from small wrapper
modules that reuse the checkpoint's own submodules:

- `image.onnx`: pixel_values [b, 3, H, W] -> image_features [b, N, hidden] (CLIP vision tower + visual
  projection; N = patches + 1).
- `decoder.onnx`: one merged decoder graph. Inputs image_features [b, M, hidden], input_ids [b, T] and
  past_key_{i} / past_value_{i} [b, heads, P, head_dim] for every layer; outputs logits [b, vocab] for the
  last position and present_key_{i} / present_value_{i} [b, heads, P + M + T, head_dim]. The first step
  passes the image features, the [CLS] token and an empty past (P = 0); later steps pass an empty
  image_features (M = 0) and one token. The cache holds the image tokens too: in GIT image tokens only
  attend to image tokens, so their keys/values never change and transformers' recomputing of them at
  every step gives the same numbers.

GIT's masking is kept: image tokens form a bidirectional prefix that cannot see text; text tokens see
every image token and the text before them. Text positions are counted from the first text token.

Layout of bundle sections written here (read by `models.captioner`): `preprocessing` (CLIP processor),
`git` (shapes and special tokens), `generation` (the decoding settings of the checkpoint's generation
config that the captioner reproduces), `tokenizer_options`.

torch and transformers are imported inside functions: this module is only used on the export path.
Tiny random GIT models and transformers' reference outputs (for tests) are in `models.export.tiny_git`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from models.bundle import Bundle
from models.errors import BundleError
from models.export.tiny_git import build_tiny_git

logger = logging.getLogger(__name__)

OPSET = 17
IMAGE_FILE = "image.onnx"
DECODER_FILE = "decoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Generation settings copied from the checkpoint and honoured by the captioner; anything else that is
# not at its default is refused at export, so a bundle never decodes differently from transformers.
_GENERATION_DEFAULTS = {
    "min_length": 0,
    "min_new_tokens": None,
    "do_sample": False,
    "num_beam_groups": 1,
    "diversity_penalty": 0.0,
    "bad_words_ids": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "exponential_decay_length_penalty": None,
    "encoder_no_repeat_ngram_size": 0,
}


def _tiny_preprocessing(image_size: int) -> dict:
    from transformers import CLIPImageProcessor

    processor = CLIPImageProcessor(size={"shortest_edge": image_size}, crop_size=image_size)
    return _preprocessing_from_processor(processor)


def _preprocessing_from_processor(processor) -> dict:
    """The manifest `preprocessing` section for a CLIPImageProcessor (see models.preprocess)."""
    size = processor.size
    short = size.get("shortest_edge") if isinstance(size, dict) else size
    if short is None or not processor.do_resize or not processor.do_rescale or not processor.do_normalize:
        raise BundleError(f"unsupported image processor settings: {processor.to_dict()}")
    crop = processor.crop_size
    crop_h, crop_w = (crop["height"], crop["width"]) if isinstance(crop, dict) else (crop, crop)
    names = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic"}
    resample = names.get(int(processor.resample))
    if resample is None:
        raise BundleError(f"unsupported image processor resample {processor.resample!r}")
    return {
        "size": int(short),
        "crop_size": [int(crop_h), int(crop_w)],
        "resample": resample,
        "do_center_crop": bool(processor.do_center_crop),
        "rescale_factor": float(processor.rescale_factor),
        "mean": [float(v) for v in processor.image_mean],
        "std": [float(v) for v in processor.image_std],
    }


def _generation_settings(model) -> dict:
    config = model.generation_config
    for key, default in _GENERATION_DEFAULTS.items():
        value = getattr(config, key, default)
        if value != default and not (default is None and value in ([], ())):
            raise BundleError(
                f"generation setting {key}={value!r} of this checkpoint is not supported by the captioner"
            )
    return {
        "repetition_penalty": float(config.repetition_penalty or 1.0),
        "no_repeat_ngram_size": int(config.no_repeat_ngram_size or 0),
        "length_penalty": float(config.length_penalty if config.length_penalty is not None else 1.0),
        "early_stopping": config.early_stopping if config.early_stopping is not None else False,
        "num_beams": int(config.num_beams or 1),
    }


def _wrappers(model):
    """torch modules with the graphs' signatures, built on the checkpoint's own submodules."""
    import torch
    from torch import nn

    git = model.git
    config = model.config
    n_image = git.encoder.layer[0].attention.self.image_patch_tokens
    n_layers = config.num_hidden_layers
    n_heads = config.num_attention_heads
    head_dim = config.hidden_size // n_heads

    class ImageEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.image_encoder = git.image_encoder
            self.visual_projection = git.visual_projection

        def forward(self, pixel_values):
            features = self.image_encoder(pixel_values).last_hidden_state
            return self.visual_projection(features)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = git.embeddings
            self.layers = git.encoder.layer
            self.output = model.output

        def forward(self, image_features, input_ids, *past):
            batch = input_ids.shape[0]
            n_new_image = image_features.shape[1]
            n_text = input_ids.shape[1]
            n_past = past[0].shape[2]
            # text positions start at the first text token; the cache also holds the N image tokens
            offset = n_past + n_new_image - n_image
            position_ids = (torch.arange(n_text, device=input_ids.device) + offset).unsqueeze(0)
            text = self.embeddings(input_ids=input_ids, position_ids=position_ids)
            hidden = torch.cat([image_features.to(text.dtype), text], dim=1)

            n_query = n_new_image + n_text
            n_key = n_past + n_query
            q_idx = torch.arange(n_query, device=input_ids.device).unsqueeze(1)
            k_idx = torch.arange(n_key, device=input_ids.device).unsqueeze(0)
            is_image_query = q_idx < n_new_image
            image_allowed = (k_idx >= n_past) & (k_idx < n_past + n_new_image)
            text_allowed = k_idx <= q_idx + n_past
            allowed = (is_image_query & image_allowed) | (~is_image_query & text_allowed)
            mask = torch.zeros_like(q_idx + k_idx, dtype=hidden.dtype).masked_fill(~allowed, float("-inf"))

            presents = []
            for i, layer in enumerate(self.layers):
                attn = layer.attention.self

                def heads(x, batch=batch):
                    return x.view(batch, -1, n_heads, head_dim).transpose(1, 2)

                query = heads(attn.query(hidden))
                key = torch.cat([past[2 * i], heads(attn.key(hidden))], dim=2)
                value = torch.cat([past[2 * i + 1], heads(attn.value(hidden))], dim=2)
                presents += [key, value]
                scores = torch.matmul(query, key.transpose(-1, -2)) / (head_dim**0.5)
                probs = torch.softmax(scores + mask, dim=-1)
                context = (
                    torch.matmul(probs, value).permute(0, 2, 1, 3).reshape(batch, -1, n_heads * head_dim)
                )
                attention_output = layer.attention.output(context, hidden)
                hidden = layer.output(layer.intermediate(attention_output), attention_output)
            logits = self.output(hidden[:, -1, :])
            return (logits, *presents)

    return ImageEncoder().eval(), Decoder().eval(), n_image, n_layers, n_heads, head_dim


def export_onnx(model, out_dir: Path) -> dict:
    """Write image.onnx and decoder.onnx for `model` into `out_dir`; returns the manifest `git` section."""
    import torch

    config = model.config
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        raise BundleError(f"unsupported GIT position_embedding_type {config.position_embedding_type!r}")
    if config.num_image_with_embedding is not None:
        raise BundleError("video GIT checkpoints (num_image_with_embedding) are not supported")
    image_encoder, decoder, n_image, n_layers, n_heads, head_dim = _wrappers(model)
    vision = config.vision_config
    pixel_values = torch.randn(1, 3, vision.image_size, vision.image_size)
    with torch.no_grad():
        torch.onnx.export(
            image_encoder,
            (pixel_values,),
            str(out_dir / IMAGE_FILE),
            input_names=["pixel_values"],
            output_names=["image_features"],
            dynamic_axes={"pixel_values": {0: "batch"}, "image_features": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
        features = image_encoder(pixel_values)
        past_names = [f"past_{kind}_{i}" for i in range(n_layers) for kind in ("key", "value")]
        present_names = [f"present_{kind}_{i}" for i in range(n_layers) for kind in ("key", "value")]
        past = [torch.zeros(1, n_heads, 0, head_dim) for _ in past_names]
        input_ids = torch.tensor([[config.bos_token_id, config.bos_token_id]])
        dynamic = {"image_features": {0: "batch", 1: "new_image"}, "input_ids": {0: "batch", 1: "new_text"}}
        dynamic |= {name: {0: "batch", 2: "past"} for name in past_names}
        dynamic |= {name: {0: "batch", 2: "total"} for name in present_names}
        dynamic["logits"] = {0: "batch"}
        torch.onnx.export(
            decoder,
            (features, input_ids, *past),
            str(out_dir / DECODER_FILE),
            input_names=["image_features", "input_ids", *past_names],
            output_names=["logits", *present_names],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    return {
        "num_image_tokens": n_image,
        "hidden_size": config.hidden_size,
        "num_layers": n_layers,
        "num_heads": n_heads,
        "head_dim": head_dim,
        "vocab_size": config.vocab_size,
        "max_position_embeddings": config.max_position_embeddings,
        "bos_token_id": config.bos_token_id,
        "eos_token_id": config.eos_token_id,
        "pad_token_id": config.pad_token_id,
        "image_size": vision.image_size,
    }


def write_git_bundle(
    model,
    tokenizer,
    preprocessing: dict,
    out_dir: Path,
    name: str,
    source: str,
    license_: str,
    clean_up: bool = True,
) -> Bundle:
    """Export `model` and write a complete bundle (graphs, tokenizer.json, manifest) into `out_dir`."""
    from models.bundle import write_manifest

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="git-export-") as tmp:
        tmp_dir = Path(tmp)
        git_section = export_onnx(model, tmp_dir)
        for file in (IMAGE_FILE, DECODER_FILE):
            _require_single_file(tmp_dir / file)
            shutil.move(tmp_dir / file, out_dir / file)
    tokenizer.save(str(out_dir / TOKENIZER_FILE))
    if tokenizer.get_vocab_size() > git_section["vocab_size"]:
        raise BundleError(
            f"tokenizer has {tokenizer.get_vocab_size()} tokens but the model's vocabulary is "
            f"{git_section['vocab_size']}"
        )
    manifest = {
        "kind": "git",
        "name": name,
        "version": "1",
        "source": source,
        "license": license_,
        "files": {"image": IMAGE_FILE, "decoder": DECODER_FILE, "tokenizer": TOKENIZER_FILE},
        "preprocessing": preprocessing,
        "git": git_section,
        "generation": _generation_settings(model),
        "tokenizer_options": {"clean_up_tokenization_spaces": clean_up},
    }
    bundle = write_manifest(out_dir, manifest)
    logger.info("wrote GIT bundle %s to %s", name, out_dir)
    return bundle


def _require_single_file(path: Path) -> None:
    """The graphs must be self-contained (<2 GiB, no external data) so bundles are plain file lists."""
    if not path.is_file():
        raise BundleError(f"export did not produce {path}")
    extras = [p for p in path.parent.iterdir() if p.name not in (IMAGE_FILE, DECODER_FILE)]
    if extras:
        raise BundleError(
            f"export of {path.name} wrote external data files: {', '.join(p.name for p in extras)}"
        )


def export_git_bundle(src: str, out_dir: Path, tiny: str | None = None) -> Bundle:
    """Export a GIT checkpoint (Hugging Face id or local folder) to a bundle in `out_dir`.

    The bundle is named after the checkpoint without its "-coco" suffix (microsoft/git-base-coco ->
    "git-base", the name the `caption_model` setting uses).
    With `tiny` ("base" or "large"), `src` only names the bundle's source: a randomly initialised model
    of that shape and a tiny WordPiece tokenizer are exported instead (for tests; nothing is downloaded).
    """
    out_dir = Path(out_dir)
    if tiny is not None:
        model, tokenizer = build_tiny_git(tiny)
        preprocessing = _tiny_preprocessing(model.config.vision_config.image_size)
        return write_git_bundle(
            model,
            tokenizer,
            preprocessing,
            out_dir,
            name=f"git-tiny-{tiny}",
            source=f"tiny-random:{src}",
            license_="MIT",
        )
    from transformers import AutoProcessor, GitForCausalLM

    try:
        model = GitForCausalLM.from_pretrained(src, attn_implementation="eager").eval()
        processor = AutoProcessor.from_pretrained(src)
    except OSError as exc:
        raise BundleError(f"cannot load GIT checkpoint {src!r}: {exc}") from exc
    fast = processor.tokenizer
    if not getattr(fast, "is_fast", False):
        raise BundleError(f"{src}: a fast (tokenizers) tokenizer is needed for the bundle")
    preprocessing = _preprocessing_from_processor(processor.image_processor)
    name = "git-" + src.rstrip("/").split("/")[-1].removeprefix("git-").removesuffix("-coco")
    license_ = _license_of(src)
    clean_up = bool(getattr(fast, "clean_up_tokenization_spaces", True))
    return write_git_bundle(
        model, fast.backend_tokenizer, preprocessing, out_dir, name, src, license_, clean_up=clean_up
    )


def _license_of(src: str) -> str:
    readme = Path(src) / "README.md"
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines()[:20]:
            if line.startswith("license:"):
                return line.split(":", 1)[1].strip()
    return "MIT"  # microsoft/git-* checkpoints are MIT-licensed
