"""Turn an ONNX image model into an image bundle (`models import-onnx`): no torch, no TensorFlow.

Works on any image backbone or classifier exported elsewhere (the bundled MobileNetV2 converted from
TF Lite, a DINOv2 or ResNet-50 export, an ONNX model-zoo classifier, an in-house model): it reads
the input's layout, dtype and size from the graph, exposes the named embedding tensor (often an
intermediate one, such as the pooled features before the classifier) and the class scores as graph
outputs, makes the batch dimension dynamic where the graph allows it (checked by running it), runs a
check inference and verifies the label count against the scores.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.bundle import Bundle, load_bundle, write_manifest
from models.errors import BundleError
from models.image_model import read_labels

logger = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_ELEM_DTYPE = {1: "float32", 2: "uint8"}  # onnx.TensorProto.FLOAT, UINT8


@dataclass
class ImportOptions:
    """What `import_onnx` needs beyond the graph; None fields are read from the graph."""

    name: str
    embedding: str
    scores: str | None = None
    scores_are: str = "probabilities"
    labels: Path | None = None
    labels_offset: int | None = None  # None: 0, or 1 when there is one score more than labels
    resize: int | None = None  # short side before the centre crop; None: size * 256 / 224
    resample: str = "bilinear"
    mean: tuple[float, float, float] | None = None  # None: ImageNet's for float input, none for uint8
    std: tuple[float, float, float] | None = None
    source: str = ""
    license: str = "see the license file"
    license_file: Path | None = None
    notice_file: Path | None = None
    version: str = "1"


def import_onnx(model_path: Path, out: Path, options: ImportOptions) -> Bundle:
    """Write an image bundle for `model_path` into the new folder `out`; BundleError (one line) when
    the graph is not an image model, lacks the named tensors, or disagrees with the labels file."""
    import onnx

    model_path, out = Path(model_path), Path(out)
    if out.exists():
        raise BundleError(f"{out} already exists; choose a new folder for the bundle")
    try:
        model = onnx.load(str(model_path))
    except FileNotFoundError:
        raise BundleError(f"no such file: {model_path}") from None
    except Exception as exc:  # protobuf's DecodeError and friends
        raise BundleError(f"{model_path} is not an ONNX model ({type(exc).__name__})") from exc
    graph_input, layout, dtype, size = _image_input(model, model_path)
    labels = read_labels(options.labels) if options.labels else []
    wanted = [options.embedding, *([options.scores] if options.scores else [])]
    _expose_outputs(model, wanted, model_path)
    _keep_only_outputs(model, wanted)
    dynamic = _try_dynamic_batch(model, graph_input.name, options, layout, dtype, size)
    batch = "dynamic" if dynamic else "fixed"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=out.parent) as tmp:
        staging = Path(tmp) / out.name
        staging.mkdir()
        onnx.save(model, str(staging / "model.onnx"))
        probe = (graph_input.name, layout, dtype, size)
        dim, n_scores = _check_inference(staging / "model.onnx", options, *probe)
        manifest = _manifest(options, graph_input.name, layout, dtype, size, batch, dim, n_scores, labels)
        files = {"model": "model.onnx"}
        if labels:
            (staging / "labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
            files["labels"] = "labels.txt"
        for role, src in (("license", options.license_file), ("notice", options.notice_file)):
            if src is not None:
                shutil.copyfile(src, staging / Path(src).name)
                files[role] = Path(src).name
        manifest["files"] = files
        write_manifest(staging, manifest)
        shutil.move(str(staging), str(out))
    bundle = load_bundle(out)
    logger.info("imported %s as %s (%s batch, %d-d embedding)", model_path, bundle.model_id, batch, dim)
    return bundle


def _image_input(model, where: Path):
    """The graph's one image input: (value info, layout, dtype, size); refuses non-image models."""
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise BundleError(f"{where} is not an image model: it takes {len(inputs)} inputs ({names}), not one")
    graph_input = inputs[0]
    tensor = graph_input.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    dtype = _ELEM_DTYPE.get(tensor.elem_type)
    if len(dims) != 4 or dtype is None:
        raise BundleError(
            f"{where} is not an image model: input {graph_input.name!r} has shape {dims} of element type "
            f"{tensor.elem_type}; an image input is [batch, 3, H, W] or [batch, H, W, 3], float32 or uint8"
        )
    if dims[3] == 3 and dims[1] != 3:
        layout, (height, width) = "NHWC", dims[1:3]
    elif dims[1] == 3:
        layout, (height, width) = "NCHW", dims[2:4]
    else:
        raise BundleError(f"{where} is not an image model: input {graph_input.name!r} has no 3-channel axis")
    if not height or not width or height != width:
        raise BundleError(
            f"{where}: input {graph_input.name!r} needs a fixed square size, not {height} x {width}"
        )
    return graph_input, layout, dtype, int(height)


def _expose_outputs(model, names: list[str], where: Path) -> None:
    """Add the named tensors as graph outputs (they may be intermediate tensors)."""
    import onnx

    produced = {out for node in model.graph.node for out in node.output}
    outputs = {o.name for o in model.graph.output}
    inferred = onnx.shape_inference.infer_shapes(model)
    known = [*inferred.graph.value_info, *inferred.graph.output]
    types = {v.name: v.type.tensor_type.elem_type for v in known}
    for name in names:
        if name in outputs:
            continue
        if name not in produced:
            raise BundleError(f"{where} has no tensor named {name!r}")
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, types.get(name, 1), None))


def _keep_only_outputs(model, names: list[str]) -> None:
    keep = [o for o in model.graph.output if o.name in names]
    del model.graph.output[:]
    model.graph.output.extend(keep)


def _try_dynamic_batch(model, input_name: str, options: ImportOptions, layout, dtype, size) -> bool:
    """Make dimension 0 of the input and outputs symbolic, and keep it only if two images in one batch
    give what they give one at a time (graphs with a hard-wired batch of 1 fail or differ)."""
    import onnx

    original = onnx.ModelProto()
    original.CopyFrom(model)
    for value in [*[i for i in model.graph.input if i.name == input_name], *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims):
            dims[0].dim_param = "batch"
    del model.graph.value_info[:]  # intermediate shapes recorded with batch 1 would contradict it
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "probe.onnx"
            onnx.save(model, str(path))
            session = _session(path)
            pair = _probe_pixels(2, layout, dtype, size)
            together = session.run([options.embedding], {input_name: pair})[0]
            apart = [session.run([options.embedding], {input_name: pair[i : i + 1]})[0] for i in range(2)]
        together = np.asarray(together, dtype=np.float32).reshape(2, -1)
        apart = np.concatenate([np.asarray(a, dtype=np.float32).reshape(1, -1) for a in apart])
        if np.allclose(together, apart, rtol=1e-3, atol=1e-3 * float(np.abs(apart).max() or 1.0)):
            return True
        logger.info("batched results differ from single ones: keeping batch 1")
    except Exception as exc:  # the graph hard-wires its batch size somewhere
        logger.info("the graph does not take a dynamic batch (%s): keeping batch 1", str(exc).splitlines()[0])
    model.CopyFrom(original)
    return False


def _session(path: Path):
    from models.session import SessionOptions, create_session

    return create_session(path, SessionOptions(force_cpu=True))


def _probe_pixels(n: int, layout: str, dtype: str, size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    shape = (n, size, size, 3) if layout == "NHWC" else (n, 3, size, size)
    values = rng.integers(0, 256, size=shape)
    return values.astype(np.uint8) if dtype == "uint8" else (values / 255.0).astype(np.float32)


def _check_inference(path: Path, options: ImportOptions, input_name: str, layout, dtype, size):
    """Run the bundle's graph once; return (embedding size, number of scores or 0)."""
    try:
        session = _session(path)
        names = [options.embedding, *([options.scores] if options.scores else [])]
        outputs = session.run(names, {input_name: _probe_pixels(1, layout, dtype, size)})
    except Exception as exc:
        raise BundleError(f"{path.name}: the check inference failed: {str(exc).splitlines()[0]}") from exc
    embedding = np.asarray(outputs[0])
    if embedding.size == 0 or not np.all(np.isfinite(embedding.astype(np.float64))):
        raise BundleError(f"tensor {options.embedding!r} gives no usable values (empty, NaN or infinite)")
    return int(embedding.size), (int(np.asarray(outputs[1]).size) if options.scores else 0)


def _manifest(options: ImportOptions, input_name, layout, dtype, size, batch, dim, n_scores, labels) -> dict:
    section = {"input": input_name, "layout": layout, "dtype": dtype, "batch": batch,
               "embedding": options.embedding}  # fmt: skip
    if options.scores:
        if not labels:
            raise BundleError("class scores need a labels file (--labels), one label per line")
        offset = options.labels_offset
        if offset is None:
            offset = n_scores - len(labels) if n_scores - len(labels) in (0, 1) else -1
        if offset < 0 or offset + len(labels) != n_scores:
            raise BundleError(
                f"the labels file has {len(labels)} labels, but {options.scores!r} gives {n_scores} scores"
            )
        section |= {"scores": options.scores, "scores_are": options.scores_are, "labels_offset": offset}
    elif labels:
        raise BundleError("a labels file needs the class scores tensor too (--scores)")
    float_input = dtype == "float32"
    mean = options.mean or (IMAGENET_MEAN if float_input else (0.0, 0.0, 0.0))
    std = options.std or (IMAGENET_STD if float_input else (1.0, 1.0, 1.0))
    preprocessing = {
        "size": options.resize or round(size * 256 / 224),
        "crop_size": size,
        "resample": options.resample,
        "do_center_crop": True,
        "rescale_factor": 1 / 255 if float_input else 1.0,
        "mean": list(mean),
        "std": list(std),
    }
    return {
        "kind": "image", "name": options.name, "version": options.version, "source": options.source,
        "license": options.license, "embedding_dim": dim, "image_model": section,
        "preprocessing": preprocessing,
    }  # fmt: skip
