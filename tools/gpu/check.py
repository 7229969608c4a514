"""GPU check for a machine with an NVIDIA GPU: the device setting with real onnxruntime-gpu, the model
parity tests with every session forced onto the GPU, GPU vs CPU vectors and labels, which operators
run on CUDA, and indexing speed on CPU and GPU (BENCHMARKS.md, "GPU"). Not part of `make test`.

Here (a source checkout with ../shared beside it and the package registry reachable):

    .venv/bin/python tools/gpu/check.py --prepare

fills .gpudata/ (1,000 Caltech-101 photos; the full-size random ViT-B/32 bench bundle's image graphs
with their big weights zeroed, regenerated there), .whl/ (Imago's pure-Python and usearch wheels for
Python 3.12) and .ortp1/ ... .ortp5/ (the onnxruntime-gpu wheel in parts: one call carries 64 MiB).
On the device machine (the `device` tool; its python3 has torch, CUDA 13 and cuDNN 9), one call per
part while it stays warm, carrying `.ortpN`:

    mkdir -p /tmp/ort && cp .ortpN/* /tmp/ort/          # N = 1..5; after the last: cat the parts
    cat /tmp/ort/ortpart.* > /tmp/ort/onnxruntime_gpu-<version>-cp312-cp312-manylinux_2_28_x86_64.whl

then, carrying `.whl` and `.gpudata`:

    python3 -m pip uninstall -y -q onnxruntime; python3 -m pip install -q --no-index --no-deps /tmp/ort/*.whl
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    PYTHONPATH=/tmp/site:$PWD python3 tools/gpu/check.py [STEP ...] > $OUT/log.txt 2>&1

Results go to $OUT/gpu_check.json after each step. The last step, pip_cuda_only, rewrites that
machine's loader configuration: run it last.
"""

import collections
import importlib.metadata
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path.cwd()
OUT = Path(os.environ.get("OUT", "/tmp/gpu-out"))
DATA = ROOT / ".gpudata"
HERE = Path(__file__).resolve().parent
ORT_VERSION = "1.31.1"
# Imago's dependencies that the device image lacks (it has numpy, Pillow, tokenizers, onnx, pytest)
WHEELS = [
    "usearch",
    "numkong",
    "sqlite-utils",
    "sqlite-fts4",
    "click-default-group",
    "platformdirs",
    "watchdog",
]
PART_BYTES = 51_200_000  # a call carries 64 MiB with the checkout
PHOTOS = DATA / "caltech"
MOBILENET = ROOT / "resources/models/mobilenet-v2-imagenet"
CLIP_FULL = Path("/tmp/clip-b32")
results: dict = {}
STEPS = []


def step(fn):
    STEPS.append(fn)
    return fn


def run_steps(only: list[str]) -> None:
    for fn in STEPS:
        if only and fn.__name__ not in only:
            continue
        started = time.perf_counter()
        print(f"== {fn.__name__}", flush=True)
        try:
            results[fn.__name__] = fn()
        except Exception:
            results[fn.__name__] = {"error": traceback.format_exc()}
        results[fn.__name__ + "_s"] = round(time.perf_counter() - started, 1)
        print(json.dumps(results[fn.__name__], indent=1, default=str)[:3000], flush=True)
        (OUT / "gpu_check.json").write_text(json.dumps(results, indent=1, default=str))


def sh(cmd, env=None, timeout=300):
    if shutil.which(cmd[0]) is None and not Path(cmd[0]).exists():
        return {"rc": None, "out": "", "err": f"{cmd[0]} not found"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    return {"rc": proc.returncode, "out": proc.stdout[-3000:], "err": proc.stderr[-3000:]}


SESSION_CODE = (
    "import logging,os,sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
    "import models.session as s\n"
    "if os.environ.get('NO_PRELOAD'): s.load_gpu_libraries = lambda: None\n"
    "for d in ('gpu','auto','cpu','gpu'):\n"
    "  try: print(d, s.create_session(s.Path(sys.argv[1]), s.SessionOptions(device=d)).get_providers())\n"
    "  except s.DeviceError as e: print(d, 'DeviceError:', e)\n"
    "print([(p.provider, p.usable, p.detail) for p in s.probe_providers()])\n"
)


@step
def environment():
    import onnxruntime as ort

    return {
        "onnxruntime": ort.__version__,
        "available": ort.get_available_providers(),
        "get_device": ort.get_device(),
        "nvidia_smi": sh(["nvidia-smi", "-L"])["out"],
        "cpus": os.cpu_count(),
    }


@step
def device_setting():
    """Real onnxruntime-gpu: what auto/cpu/gpu create, and gpu/auto with the GPU hidden."""
    model = str(MOBILENET / "model.onnx")
    env = dict(os.environ)
    return {
        "app": sh([sys.executable, "-c", SESSION_CODE, model], env=env),
        "app_without_the_preload": sh(
            [sys.executable, "-c", SESSION_CODE, model], env=dict(env, NO_PRELOAD="1")
        ),
        "gpu_hidden": sh([sys.executable, "-c", SESSION_CODE, model], env=dict(env, CUDA_VISIBLE_DEVICES="")),
    }


@step
def doctor():
    home = tempfile.mkdtemp()
    env = dict(os.environ, IMAGO_HOME=home)
    return sh([sys.executable, "main.py", "doctor"], env=env)


@step
def forced_gpu_tests():
    """The model parity tests (transformers references) with every 'auto' session forced onto the GPU."""
    env = dict(
        os.environ, PYTHONPATH=f"{HERE}:{os.environ.get('PYTHONPATH', '')}", QT_QPA_PLATFORM="offscreen"
    )
    tests = [
        "tests/unit/test_models_clip.py",
        "tests/unit/test_captioner.py",
        "tests/unit/test_captioner_decoding.py",
        "tests/unit/test_models_image.py",
        "tests/unit/test_models_classifier.py",
    ]
    result = sh(
        [sys.executable, "-m", "pytest", "-p", "force_gpu", "-q", "-p", "no:cacheprovider", *tests],
        env=env,
        timeout=400,
    )
    sessions = OUT / "forced_gpu_sessions.json"
    result["sessions"] = json.loads(sessions.read_text()) if sessions.exists() else None
    return result


def _photos(limit: int, size: int):
    from store.ingestion.decoder import decode_file

    images = []
    for path in sorted(PHOTOS.rglob("*.jpg"))[:limit]:
        images.append(decode_file(os.fsencode(path), target_size=size)[1].image)
    return images


def _compare(a: np.ndarray, b: np.ndarray) -> dict:
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    return {
        "max_abs_diff": float(np.abs(a - b).max()),
        "min_cosine": float((an * bn).sum(1).min()),
        "mean_cosine": float((an * bn).sum(1).mean()),
    }


@step
def parity_mobilenet():
    from models.bundle import load_bundle
    from models.image_model import ImageModelEncoder
    from models.session import SessionOptions

    bundle = load_bundle(MOBILENET)
    encoders = {d: ImageModelEncoder(bundle, SessionOptions(device=d)) for d in ("cpu", "gpu")}
    images = _photos(256, encoders["cpu"].input_size)
    out = {d: e.encode_and_label(images, 5) for d, e in encoders.items()}
    (vc, lc), (vg, lg) = out["cpu"], out["gpu"]
    top1 = np.mean([a[0][0] == b[0][0] for a, b in zip(lc, lg, strict=True)])
    top5 = np.mean([[n for n, _ in a] == [n for n, _ in b] for a, b in zip(lc, lg, strict=True)])
    return {
        **_compare(vc, vg),
        "top1_same": float(top1),
        "top5_lists_same": float(top5),
        "images": len(images),
        "providers": {d: e._session.get().get_providers() for d, e in encoders.items()},
    }


def _regenerate_clip():
    """The full-size random ViT-B/32 image towers: graphs carried, big weights regenerated here."""
    from models.bundle import write_manifest

    if (CLIP_FULL / "text.onnx").exists():
        return
    shutil.copytree(DATA / "clip-b32", CLIP_FULL, dirs_exist_ok=True)
    plan = json.loads((CLIP_FULL / "regenerate.json").read_text())
    rng = np.random.default_rng(0)
    for name, tensors in plan.items():
        (CLIP_FULL / name).write_bytes(lzma.decompress((CLIP_FULL / (name + ".xz")).read_bytes()))
        with open(CLIP_FULL / name, "r+b") as f:
            for data_type, offset, length in tensors:
                if data_type == 1:  # float32
                    values = (rng.standard_normal(length // 4) * 0.02).astype(np.float32)
                elif data_type == 3:  # int8
                    values = rng.integers(-127, 128, length, dtype=np.int8)
                else:  # uint8
                    values = rng.integers(0, 256, length, dtype=np.uint8)
                f.seek(offset)
                f.write(values.tobytes())
    manifest = json.loads((CLIP_FULL / "manifest.json").read_text())
    (CLIP_FULL / "text.onnx").write_bytes(b"not used by this check")
    write_manifest(CLIP_FULL, manifest)


def _clip_encoder(device: str, quantized: bool, batch: int = 32):
    from models.bundle import load_bundle
    from models.clip import ClipImageEncoder
    from models.session import SessionOptions

    _regenerate_clip()
    return ClipImageEncoder(
        load_bundle(CLIP_FULL), SessionOptions(device=device), quantized=quantized, batch_size=batch
    )


@step
def parity_clip_full():
    out = {}
    images = None
    for quantized in (False, True):
        encoders = {d: _clip_encoder(d, quantized) for d in ("cpu", "gpu")}
        images = images or _photos(64, encoders["cpu"].input_size)
        vectors = {d: e.encode(images) for d, e in encoders.items()}
        out["int8" if quantized else "fp32"] = {
            **_compare(vectors["cpu"], vectors["gpu"]),
            "providers": {d: e._session.get().get_providers() for d, e in encoders.items()},
        }
    return out


def _profile(path: Path, pixels: np.ndarray) -> dict:
    """Kernels per execution provider over three runs of the graph at `path` on `pixels`."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "profile")
    session = ort.InferenceSession(
        str(path), options, providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    feeds = {session.get_inputs()[0].name: pixels}
    for _ in range(3):
        session.run(None, feeds)
    profile = json.loads(Path(session.end_profiling()).read_text())
    providers, cpu_ops, time_us = collections.Counter(), collections.Counter(), collections.Counter()
    for event in profile:
        args = event.get("args", {})
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and "provider" in args:
            providers[args["provider"]] += 1
            time_us[args["provider"]] += event.get("dur", 0)
            if args["provider"] != "CUDAExecutionProvider":
                cpu_ops[args.get("op_name", "?")] += 1
    return {
        "kernels_by_provider": dict(providers),
        "kernel_us_by_provider": dict(time_us),
        "non_cuda_ops": dict(cpu_ops),
    }


@step
def placement():
    """Which operators run on CUDA (onnxruntime's profile), for the shipped model and the CLIP towers."""
    _regenerate_clip()
    out = {"mobilenet": _profile(MOBILENET / "model.onnx", np.zeros((1, 224, 224, 3), np.uint8))}
    for name in ("image.onnx", "image_int8.onnx"):
        out[name] = _profile(CLIP_FULL / name, np.zeros((32, 3, 224, 224), np.float32))
    return out


@step
def throughput():
    """End-to-end indexing (decode + embed + label + store) and model-only rates, CPU vs GPU."""
    from benchmarks.throughput import measure_throughput
    from models.bundle import load_bundle
    from models.image_model import ImageModelEncoder
    from models.session import SessionOptions

    out = {}
    import models.session

    def with_tf32(device):
        saved = models.session.PROVIDER_OPTIONS
        models.session.PROVIDER_OPTIONS = {}
        try:
            encoder = _clip_encoder(device, False)
            encoder.encode(_photos(1, encoder.input_size))  # the session is made now, with TF32 on
            return encoder
        finally:
            models.session.PROVIDER_OPTIONS = saved

    makers = {
        "mobilenet (shipped, uint8 QDQ)": lambda d: ImageModelEncoder(
            load_bundle(MOBILENET), SessionOptions(device=d)
        ),
        "clip b32 fp32": lambda d: _clip_encoder(d, False),
        "clip b32 fp32 with TF32": with_tf32,
        "clip b32 int8": lambda d: _clip_encoder(d, True),
    }
    for label, make in makers.items():
        for device in ("cpu", "gpu") if "TF32" not in label else ("gpu",):
            rates = measure_throughput(PHOTOS, make(device), batch_size=32, model_only_images=256)
            out[f"{label} / {device}"] = {k: round(v, 2) for k, v in rates.items()}
            print(label, device, out[f"{label} / {device}"], flush=True)
    return out


@step
def cli_index():
    """`imago index` with settings device gpu, auto and cpu, on the same 1000 photos (fresh index each)."""
    out = {}
    for device in ("gpu", "auto", "cpu"):
        home = Path(tempfile.mkdtemp())
        (home / "settings.json").write_text(json.dumps({"device": device}))
        archive = Path(tempfile.mkdtemp()) / "archive"
        shutil.copytree(PHOTOS, archive)
        started = time.perf_counter()
        result = sh(
            [sys.executable, "main.py", "index", str(archive), "--no-caption"],
            env=dict(os.environ, IMAGO_HOME=str(home)),
            timeout=300,
        )
        result["seconds"] = round(time.perf_counter() - started, 1)
        out[device] = result
    return out


CUDA_LIBRARIES = ("libcudart.so", "libcublasLt.so", "libcudnn.so")


def _holds(folder: str, names) -> bool:
    return any(any(entry.name.startswith(n) for n in names) for entry in Path(folder).glob("lib*"))


@step
def pip_cuda_only():
    """System-wide CUDA hidden from the loader (the driver's libcuda stays): only the pip nvidia-*
    packages beside onnxruntime remain. Changes this machine's loader configuration: run last."""

    def ldconfig() -> list[str]:
        lines = sh(["ldconfig", "-p"])["out"].splitlines()
        return [line for line in lines if any(name in line for name in CUDA_LIBRARIES)]

    info = {
        "ldconfig_before": ldconfig(),
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH"),
        "dropped": [],
    }
    for conf in Path("/etc/ld.so.conf.d").glob("*.conf"):
        kept = []
        for line in conf.read_text().splitlines():
            folder = line.strip()
            if (
                folder
                and not folder.startswith("#")
                and Path(folder).is_dir()
                and not _holds(folder, ["libcuda.so.1"])
                and _holds(folder, CUDA_LIBRARIES)
            ):
                info["dropped"].append(folder)
                continue
            kept.append(line)
        conf.write_text("\n".join(kept) + "\n")
    subprocess.run(["ldconfig"], check=False)
    info["ldconfig_after"] = ldconfig()
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(
        f
        for f in env.get("LD_LIBRARY_PATH", "").split(":")
        if f and (not _holds(f, CUDA_LIBRARIES) or _holds(f, ["libcuda.so.1"]))
    )
    model = str(MOBILENET / "model.onnx")
    info["app"] = sh([sys.executable, "-c", SESSION_CODE, model], env=env)
    info["app_without_the_preload"] = sh(
        [sys.executable, "-c", SESSION_CODE, model], env=dict(env, NO_PRELOAD="1")
    )
    return info


def prepare() -> None:
    """Fill .gpudata/, .whl/ and .ortp*/ on a machine with ../shared and the package registry."""
    from benchmarks.embed_suite import CALTECH, full_size_clip_bundle

    photos = sorted(CALTECH.glob("*/*.jpg"))[8::9][:1000]
    shutil.rmtree(DATA, ignore_errors=True)
    for photo in photos:
        (PHOTOS / photo.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, PHOTOS / photo.parent.name / photo.name)
    _strip_clip(full_size_clip_bundle()[0].path, DATA / "clip-b32")
    wheels = ROOT / ".whl"
    shutil.rmtree(wheels, ignore_errors=True)
    versions = {name: importlib.metadata.version(name) for name in WHEELS}
    _download(wheels, [f"{name}=={version}" for name, version in versions.items()])
    with tempfile.TemporaryDirectory() as folder:
        _download(Path(folder), [f"onnxruntime-gpu=={ORT_VERSION}"])
        (wheel,) = Path(folder).glob("*.whl")
        data = wheel.read_bytes()
    for old in ROOT.glob(".ortp*"):
        shutil.rmtree(old)
    for number, start in enumerate(range(0, len(data), PART_BYTES), 1):
        part = ROOT / f".ortp{number}"
        part.mkdir()
        (part / f"ortpart.{number - 1}").write_bytes(data[start : start + PART_BYTES])
    print(
        f"{len(photos)} photos, {len(versions)} wheels, {wheel.name} in {number} parts:",
        "see this file's docstring for the device calls",
    )


def _download(folder: Path, requirements: list[str]) -> None:
    platforms = [f"--platform={p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64",
                                             "manylinux_2_17_x86_64", "manylinux2014_x86_64")]  # fmt: skip
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(folder),
                    *requirements], check=True)  # fmt: skip


def _strip_clip(source: Path, target: Path) -> None:
    """The image graphs with every big float32/int8 initializer zeroed (xz makes them small); the plan to
    regenerate them (offset, length, type) in regenerate.json. Everything else is kept byte for byte."""
    import onnx
    from onnx.external_data_helper import convert_model_to_external_data

    target.mkdir(parents=True)
    plan = {}
    for name in ("image.onnx", "image_int8.onnx"):
        model = onnx.load(source / name)
        convert_model_to_external_data(model, location=name + ".data", size_threshold=1024)
        onnx.save_model(model, target / name)
        data = bytearray((target / (name + ".data")).read_bytes())
        todo = []
        for tensor in onnx.load(target / name, load_external_data=False).graph.initializer:
            if tensor.data_location != onnx.TensorProto.EXTERNAL:
                continue
            info = {entry.key: entry.value for entry in tensor.external_data}
            offset, length = int(info.get("offset", 0)), int(info["length"])
            if tensor.data_type in (1, 2, 3) and length >= 64 * 1024:  # float32, uint8, int8
                data[offset : offset + length] = bytes(length)
                todo.append([tensor.data_type, offset, length])
        (target / (name + ".data.xz")).write_bytes(lzma.compress(bytes(data)))
        (target / (name + ".data")).unlink()
        plan[name + ".data"] = todo
    (target / "regenerate.json").write_text(json.dumps(plan))
    shutil.copyfile(source / "manifest.json", target / "manifest.json")
    shutil.copyfile(source / "tokenizer.json", target / "tokenizer.json")


if __name__ == "__main__":
    if sys.argv[1:] == ["--prepare"]:
        sys.path.insert(0, str(ROOT))
        prepare()
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        run_steps(sys.argv[1:])
