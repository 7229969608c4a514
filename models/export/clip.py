"""Export CLIP checkpoints (and a multilingual text tower) from transformers to an ONNX bundle.

Needs the `[export]` extra (torch, transformers, onnx); they are imported lazily, so the rest of the
app runs without them. Sources are Hugging Face ids (downloaded by huggingface_hub: exporting is the
one explicit step that may use the network) or local checkpoint folders.

Graphs written (opset 17, dynamic batch and sequence axes):
- `image.onnx`: pixel_values [n,3,H,W] -> image_embeds [n,d], L2-normalised;
- `text.onnx`: input_ids, attention_mask [n,L] int64 -> text_embeds [n,d], L2-normalised;
- `text_multilingual.onnx` (with `text_model`): a sentence-transformers model (transformer, mean
  pooling over the attention mask, dense projection) -> text_embeds [n,d], L2-normalised, in the
  same space as the image tower (e.g. sentence-transformers/clip-ViT-B-32-multilingual-v1);
- `image_int8.onnx` (with `quantize="int8"`): the image tower with dynamically quantised MatMul/Gemm.

`tiny=True` first writes randomly initialised tiny checkpoints with the same architectures
(`models.export.tiny_clip`: CLIP ViT + CLIP text transformer with the full 49,408-token vocabulary;
DistilBERT + pooling + dense), then exports them through the same code path. For the tiny CLIP
tokenizer `src` must give CLIP's BPE merges (`bpe_simple_vocab_16e6.txt.gz` or a folder holding it) or
a checkpoint folder with tokenizer files.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import shutil
import tempfile
import warnings
from pathlib import Path

from models.bundle import Bundle, write_manifest
from models.errors import InputError
from models.export.checkpoints import SentenceEmbedder, card_license, local_or_download, require_torch
from models.export.tiny_clip import (
    tiny_license_notes,
    write_tiny_clip_checkpoint,
    write_tiny_multilingual_checkpoint,
)
from models.preprocess import PreprocessSpec

logger = logging.getLogger(__name__)

OPSET = 17


def _towers(model):
    torch, _ = require_torch()

    class ImageTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            embeds = self.model.get_image_features(pixel_values=pixel_values)
            return embeds / embeds.norm(p=2, dim=-1, keepdim=True)

    class TextTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            embeds = self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            return embeds / embeds.norm(p=2, dim=-1, keepdim=True)

    return ImageTower().eval(), TextTower().eval()


def _export(module, inputs: tuple, input_names: list[str], output: str, path: Path, dynamic: dict) -> None:
    torch, _ = require_torch()
    # the tracer warns about Python-side shape checks in transformers; the graphs are verified by parity tests
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*aten::index.*", category=UserWarning)
        torch.onnx.export(
            module,
            inputs,
            str(path),
            input_names=input_names,
            output_names=[output],
            dynamic_axes={**dynamic, output: {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    import onnx

    onnx.checker.check_model(str(path))


def _export_text(module, tokenizer, samples: list[str], path: Path) -> None:
    """Export a text tower taking (input_ids, attention_mask), traced on `samples`."""
    ids = tokenizer(samples, padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    _export(module, (ids["input_ids"], ids["attention_mask"]), ["input_ids", "attention_mask"], "text_embeds",
            path, {"input_ids": axes, "attention_mask": axes})  # fmt: skip


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of MatMul/Gemm weights (activations quantised at run time).

    The graph first goes through onnxruntime's recommended pre-processing (shape inference and
    optimisation); if that step fails the original graph is quantised.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="imago-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        try:
            quant_pre_process(str(src), str(prepared))
        except Exception as exc:  # optional step; onnxruntime raises assorted errors
            logger.warning("quantisation pre-processing failed (%s); quantising %s as is", exc, src.name)
            prepared = src
        quantize_dynamic(
            str(prepared), str(dst), op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8
        )


def export_clip_bundle(
    src: str,
    out_dir: Path,
    text_model: str | None = None,
    quantize: str | None = None,
    tiny: bool = False,
    name: str | None = None,
    version: str = "1",
    checkpoint_dir: Path | None = None,
    default_precision: str = "fp32",
) -> Bundle:
    """Export `src` (HF id or folder) to a CLIP bundle in `out_dir`; see the module docstring.

    With `tiny`, the random checkpoints are written to `checkpoint_dir` (kept, e.g. to compute
    reference outputs from them) or to a temporary folder. `default_precision` ("fp32" or "int8",
    which needs `quantize="int8"`) is the image tower the app uses unless told otherwise.
    """
    require_torch()
    if quantize not in (None, "int8"):
        raise InputError(f"unsupported quantisation {quantize!r} (only 'int8')")
    if default_precision not in ("fp32", "int8") or (default_precision == "int8" and quantize != "int8"):
        raise InputError(
            f"default precision {default_precision!r} needs to be fp32, or int8 with --quantize int8"
        )
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError(f"output folder {out_dir} is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        bundle = _export_into(src, out_dir, text_model, quantize, tiny, name, version, checkpoint_dir)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)  # it was empty: leave no half-written bundle
        raise
    if default_precision != "fp32":
        bundle = write_manifest(out_dir, {**bundle.manifest, "image_tower": {"default": default_precision}})
    return bundle


def _export_into(src, out_dir, text_model, quantize, tiny, name, version, checkpoint_dir) -> Bundle:
    with tempfile.TemporaryDirectory(prefix="imago-export-") as tmp:
        clip_src, text_src = src, text_model
        if tiny:
            base = Path(checkpoint_dir) if checkpoint_dir is not None else Path(tmp)
            clip_src = str(write_tiny_clip_checkpoint(src, base / "clip"))
            if text_model is not None:
                text_src = str(write_tiny_multilingual_checkpoint(base / "multilingual"))
        return _export_clip(
            clip_src,
            out_dir,
            text_src,
            quantize,
            tiny,
            name or ("clip-tiny" if tiny else _default_name(src)),
            version,
            source=src,
            text_source=text_model,
            extra_files=tiny_license_notes(src) if tiny else {},
        )


def _default_name(src: str) -> str:
    return "clip-" + Path(src.rstrip("/")).name.lower().replace("clip-", "").replace("_", "-")


def _export_clip(
    clip_src, out_dir, text_src, quantize, tiny, name, version, source, text_source, extra_files
) -> Bundle:
    torch, transformers = require_torch()
    folder = local_or_download(clip_src)
    model = transformers.CLIPModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    try:
        processor = transformers.CLIPImageProcessor.from_pretrained(str(folder))
    except OSError:
        logger.warning("%s has no preprocessor_config.json; using CLIP's defaults", folder)
        processor = transformers.CLIPImageProcessor()
    spec = _spec_from_processor(processor)
    dim = model.config.projection_dim
    image_tower, text_tower = _towers(model)

    pixels = torch.zeros(2, 3, spec.crop_height, spec.crop_width)
    _export(
        image_tower,
        (pixels,),
        ["pixel_values"],
        "image_embeds",
        out_dir / "image.onnx",
        {"pixel_values": {0: "batch"}},
    )
    _export_text(text_tower, tokenizer, ["a photo", "a photo of a cat"], out_dir / "text.onnx")
    tokenizer_name = _save_tokenizer(tokenizer, out_dir / "tokenizer.json", compress=tiny)
    files = {"image": "image.onnx", "text": "text.onnx", "tokenizer": tokenizer_name}
    text_towers = {
        "clip": {
            "model": "text",
            "tokenizer": "tokenizer",
            "max_length": int(model.config.text_config.max_position_embeddings),
            "pad_id": int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0),
            "source": "tiny random" if tiny else source,
        },
    }
    if text_src is not None:
        text_towers["multilingual"] = _export_multilingual(text_src, out_dir, dim, tiny, text_source, files)
    if quantize == "int8":
        quantize_int8(out_dir / "image.onnx", out_dir / "image_int8.onnx")
        files["image_int8"] = "image_int8.onnx"
    for role, (path, target) in extra_files.items():
        shutil.copyfile(path, out_dir / target)
        files[role] = target
    manifest = {
        "kind": "clip",
        "name": name,
        "version": version,
        "source": "tiny randomly initialised CLIP (ViT + text transformer), for tests" if tiny else source,
        "license": "MIT (CLIP BPE vocabulary: OpenAI, MIT)" if tiny else card_license(folder),
        "files": files,
        "embedding_dim": int(dim),
        "logit_scale": float(math.exp(float(model.logit_scale.detach()))),
        "preprocessing": spec.to_manifest(),
        "image_tower": {"default": "fp32"},
        "text_towers": text_towers,
    }
    bundle = write_manifest(out_dir, manifest)
    logger.info("exported %s to %s", bundle.model_id, out_dir)
    return bundle


def _export_multilingual(text_src, out_dir: Path, dim: int, tiny: bool, source, files: dict) -> dict:
    torch, transformers = require_torch()
    folder = local_or_download(text_src)
    module = SentenceEmbedder.load(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    with torch.no_grad():
        probe = module(**tokenizer(["x"], return_tensors="pt"))
    if probe.shape[-1] != dim:
        raise InputError(
            f"text model {text_src!r} gives {probe.shape[-1]}-dim vectors; the image tower gives {dim}"
        )
    _export_text(module, tokenizer, ["a photo", "фотография кошки"], out_dir / "text_multilingual.onnx")
    max_length = 128
    st_config = folder / "sentence_bert_config.json"
    if st_config.is_file():
        max_length = int(json.loads(st_config.read_text(encoding="utf-8")).get("max_seq_length", max_length))
    files["text_multilingual"] = "text_multilingual.onnx"
    files["tokenizer_multilingual"] = _save_tokenizer(
        tokenizer, out_dir / "tokenizer_multilingual.json", tiny
    )
    return {
        "model": "text_multilingual",
        "tokenizer": "tokenizer_multilingual",
        "max_length": max_length,
        "pad_id": int(tokenizer.pad_token_id or 0),
        "source": f"tiny random ({source})" if tiny else source,
        "license": "MIT" if tiny else card_license(folder),
    }


def _save_tokenizer(tokenizer, path: Path, compress: bool) -> str:
    if not getattr(tokenizer, "is_fast", False):
        raise InputError(f"tokenizer {type(tokenizer).__name__} has no fast (tokenizers) version")
    text = tokenizer.backend_tokenizer.to_str()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")
    return path.name


def _spec_from_processor(processor) -> PreprocessSpec:
    size = processor.size
    short = size.get("shortest_edge") or min(size.get("height", 224), size.get("width", 224))
    crop = processor.crop_size or {"height": short, "width": short}
    resample = {2: "bilinear", 3: "bicubic", 0: "nearest", 1: "lanczos"}.get(
        int(processor.resample), "bicubic"
    )
    return PreprocessSpec(
        size=int(short),
        crop_height=int(crop["height"]),
        crop_width=int(crop["width"]),
        resample=resample,
        do_center_crop=bool(processor.do_center_crop),
        rescale_factor=float(processor.rescale_factor),
        mean=tuple(float(v) for v in processor.image_mean),
        std=tuple(float(v) for v in processor.image_std),
    )
