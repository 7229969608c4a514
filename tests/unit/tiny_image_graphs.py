"""Tiny ONNX image models for the image-bundle tests, built with onnx.helper, with a numpy twin.

Both graphs compute: pixels -> 1x1 convolution (3 -> FEATURES channels) -> ReLU -> global average
pool (the embedding, an intermediate tensor) -> linear classifier -> scores. One is shaped like the
bundled MobileNetV2 (uint8 NHWC input with its (x - 128) / 128 quantisation, batch fixed to 1 by a
Reshape, softmax probabilities with a "background" class first); the other like a typical PyTorch
export (float32 NCHW, dynamic batch, logits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FEATURES = 16
CLASSES = 5  # real classes; the uint8 graph adds a background score in front
SIZE = 8

_rng = np.random.default_rng(7)
CONV = _rng.normal(size=(FEATURES, 3)).astype(np.float32)
CONV_BIAS = _rng.normal(scale=0.1, size=FEATURES).astype(np.float32)
FC = _rng.normal(size=(FEATURES, CLASSES + 1)).astype(np.float32)
LABELS = ["apple", "boat", "cat", "drum", "eagle"]


def _conv_nodes(helper, numpy_helper, source: str):
    weights = numpy_helper.from_array(CONV.reshape(FEATURES, 3, 1, 1), "conv_w")
    bias = numpy_helper.from_array(CONV_BIAS, "conv_b")
    nodes = [
        helper.make_node("Conv", [source, "conv_w", "conv_b"], ["conv"]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),  # [n, FEATURES, 1, 1]
    ]
    return nodes, [weights, bias]


def write_uint8_nhwc_fixed(path: Path) -> Path:
    """uint8 [1, SIZE, SIZE, 3] -> 'pool' (intermediate) -> 'probs' [1, CLASSES + 1], batch fixed."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    conv_nodes, conv_inits = _conv_nodes(helper, numpy_helper, "nchw")
    inits = [
        *conv_inits,
        numpy_helper.from_array(np.array(128.0, np.float32), "zero_point"),
        numpy_helper.from_array(np.array(1 / 128, np.float32), "scale"),
        numpy_helper.from_array(np.array([1, FEATURES], np.int64), "flat_shape"),  # batch 1, hard-wired
        numpy_helper.from_array(FC, "fc"),
    ]
    nodes = [
        helper.make_node("Cast", ["input"], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("Sub", ["as_float", "zero_point"], ["centred"]),
        helper.make_node("Mul", ["centred", "scale"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], ["nchw"], perm=[0, 3, 1, 2]),
        *conv_nodes,
        helper.make_node("Reshape", ["pool", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "fc"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny-uint8-nhwc",
        [helper.make_tensor_value_info("input", TensorProto.UINT8, [1, SIZE, SIZE, 3])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, CLASSES + 1])],
        inits,
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(path))
    return path


def write_float_nchw_dynamic(path: Path) -> Path:
    """float32 [n, 3, SIZE, SIZE] -> 'features' (intermediate, [n, FEATURES]) -> 'logits' [n, CLASSES]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    conv_nodes, conv_inits = _conv_nodes(helper, numpy_helper, "pixel_values")
    nodes = [
        *conv_nodes,
        helper.make_node("Flatten", ["pool"], ["features"], axis=1),
        helper.make_node("MatMul", ["features", "fc"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-float-nchw",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])],
        [*conv_inits, numpy_helper.from_array(FC[:, 1:], "fc")],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(path))
    return path


def write_text_model(path: Path) -> Path:
    """Not an image model: int64 token ids [n, 12] -> an embedding."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    table = numpy_helper.from_array(_rng.normal(size=(100, 8)).astype(np.float32), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["embedded"]),
         helper.make_node("ReduceMean", ["embedded"], ["sentence"], axes=[1], keepdims=0)],
        "tiny-text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", 12])],
        [helper.make_tensor_value_info("sentence", TensorProto.FLOAT, ["batch", 8])],
        [table],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(path))
    return path


def reference_features(pixels_hwc: np.ndarray, quantised: bool) -> np.ndarray:
    """The embedding the graphs compute for one HWC image (uint8 values 0..255, already resized and
    cropped), in numpy: what the bundle must reproduce through its own preprocessing."""
    x = pixels_hwc.astype(np.float32)
    x = (x - 128.0) / 128.0 if quantised else x / 255.0
    conv = np.maximum(x.reshape(-1, 3) @ CONV.T + CONV_BIAS, 0.0)
    return conv.mean(axis=0)


def reference_probabilities(features: np.ndarray) -> np.ndarray:
    """Class probabilities over the real classes from the unnormalised features."""
    logits = features @ FC[:, 1:]
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()
