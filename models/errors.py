"""Typed exceptions shared by the core packages.

Every error raised by `models/` and `store/` derives from `ImagoError`, names the file or value that
caused it, and is mapped to an exit code by the command line (`desktop/cli/`) and to a dialog by `desktop/`.
"""


class ImagoError(Exception):
    """Base class of all errors Imago reports to the user."""


class ConfigError(ImagoError):
    """A setting or environment override has an invalid value."""


class BundleError(ImagoError):
    """A model bundle is missing, incomplete, corrupt or of an unsupported version."""


class ModelLoadError(ImagoError):
    """An ONNX model could not be loaded by onnxruntime."""


class ImageDecodeError(ImagoError):
    """An image file could not be decoded (corrupt, truncated, unsupported, too large)."""


class InputError(ImagoError):
    """An argument (text, image list, option) is not acceptable."""


class VocabularyError(ImagoError):
    """A classifier vocabulary file (labels, prompt templates) is missing or malformed."""


class InferenceError(ImagoError):
    """onnxruntime failed while running a loaded model (unexpected input shapes or types)."""


class DeviceError(ModelLoadError):
    """The settings ask for the GPU (device: gpu) and onnxruntime cannot use it."""


class BundleNotFoundError(BundleError):
    """No installed model bundle has the name asked for (or none of the kind asked for is installed)."""
