"""Real-weights suite: the MobileNetV2 shipped with Imago on Caltech-101 (the only real model here).

- find-similar quality through the product's whole pipeline (scan, decode, preprocess, embed, store,
  vector index, SearchService ranking): the train split is indexed as an archive, every test image
  queries it as an external file; MAP@10 and P@5 with relevance = same class;
- the same metrics from a plain reference written here independently of Imago's code (Pillow: short
  side 256 bilinear, centre crop 224; the model's pooled features; cosine; exact search), as the
  baseline our pipeline must not fall below;
- tag accuracy: the model's top-5 ImageNet labels against the Caltech classes that map onto ImageNet
  classes (CALTECH_TO_IMAGENET; how many map is reported);
- end-to-end indexing speed against the model alone on decoded images.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.embed_suite import CALTECH
from benchmarks.harness import SuiteUnavailable
from benchmarks.records import Record
from store.services.evaluation import (
    Sample,
    default_split,
    limit_per_class,
    ranked_metrics,
    retrieval_metrics,
)

logger = logging.getLogger(__name__)

SUITE = "real"
DATASET = CALTECH.parent

# Caltech-101 class -> the ImageNet-1k labels (first synonyms, as in the bundle's labels.txt) that
# name the same thing. Classes with no ImageNet counterpart (faces, snoopy, pyramid, ...) are absent.
CALTECH_TO_IMAGENET: dict[str, tuple[str, ...]] = {
    "Leopards": ("leopard", "cheetah", "jaguar", "snow leopard"),
    "Motorbikes": ("moped", "motor scooter"),
    "accordion": ("accordion",),
    "airplanes": ("airliner", "warplane", "wing"),
    "ant": ("ant",),
    "barrel": ("barrel", "rain barrel"),
    "beaver": ("beaver",),
    "binocular": ("binoculars",),
    "butterfly": ("admiral", "monarch", "ringlet", "cabbage butterfly", "sulphur butterfly", "lycaenid"),
    "camera": ("Polaroid camera", "reflex camera"),
    "cannon": ("cannon",),
    "car_side": (
        "convertible",
        "sports car",
        "cab",
        "limousine",
        "minivan",
        "beach wagon",
        "racer",
        "Model T",
        "jeep",
        "car wheel",
    ),
    "cellphone": ("cellular telephone",),
    "chair": ("folding chair", "rocking chair", "barber chair", "throne"),
    "cougar_body": ("cougar",),
    "cougar_face": ("cougar",),
    "crab": ("Dungeness crab", "rock crab", "fiddler crab", "king crab"),
    "crayfish": ("crayfish",),
    "crocodile": ("African crocodile", "American alligator"),
    "crocodile_head": ("African crocodile", "American alligator"),
    "cup": ("cup", "coffee mug"),
    "dalmatian": ("dalmatian",),
    "dragonfly": ("dragonfly", "damselfly"),
    "electric_guitar": ("electric guitar", "acoustic guitar"),
    "elephant": ("Indian elephant", "African elephant", "tusker"),
    "ewer": ("pitcher", "water jug"),
    "flamingo": ("flamingo",),
    "flamingo_head": ("flamingo",),
    "grand_piano": ("grand piano", "upright"),
    "hawksbill": ("loggerhead", "leatherback turtle"),
    "hedgehog": ("porcupine",),
    "kangaroo": ("wallaby",),
    "ketch": ("yawl", "schooner"),
    "lamp": ("table lamp", "lampshade"),
    "laptop": ("laptop", "notebook"),
    "llama": ("llama",),
    "lobster": ("American lobster", "spiny lobster"),
    "minaret": ("mosque",),
    "nautilus": ("chambered nautilus",),
    "panda": ("giant panda",),
    "pizza": ("pizza",),
    "platypus": ("platypus",),
    "revolver": ("revolver",),
    "rooster": ("cock",),
    "saxophone": ("sax",),
    "schooner": ("schooner", "yawl"),
    "scorpion": ("scorpion",),
    "soccer_ball": ("soccer ball",),
    "starfish": ("starfish",),
    "stop_sign": ("street sign",),
    "strawberry": ("strawberry",),
    "tick": ("tick",),
    "trilobite": ("trilobite",),
    "umbrella": ("umbrella",),
    "watch": ("digital watch", "analog clock", "stopwatch"),
    "windsor_chair": ("rocking chair", "folding chair"),
}


def _link(samples: list[Sample], archive: Path) -> None:
    """An archive of `samples` (symbolic links, one folder per class) without copying the photos."""
    for sample in samples:
        (archive / sample.label).mkdir(parents=True, exist_ok=True)
        os.symlink(DATASET / sample.path, archive / sample.label / Path(sample.path).name)


def reference_features(session, input_name: str, output: str, path: Path) -> np.ndarray:
    """The plain reference: Pillow RGB, short side 256 (bilinear), centre crop 224, uint8 NHWC."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    w, h = rgb.size
    scale = 256 / min(w, h)
    rgb = rgb.resize((max(256, round(w * scale)), max(256, round(h * scale))), Image.Resampling.BILINEAR)
    left, top = (rgb.width - 224) // 2, (rgb.height - 224) // 2
    pixels = np.asarray(rgb.crop((left, top, left + 224, top + 224)), dtype=np.uint8)[None]
    features = np.asarray(session.run([output], {input_name: pixels})[0], dtype=np.float32).reshape(-1)
    return features / max(float(np.linalg.norm(features)), 1e-12)


def _reference(bundle, train: list[Sample], test: list[Sample]) -> dict[str, float]:
    from models.session import SessionOptions, create_session

    section = bundle.manifest["image_model"]
    session = create_session(bundle.file("model"), SessionOptions(force_cpu=True))

    def embed(samples: list[Sample]) -> np.ndarray:
        return np.stack([reference_features(session, section["input"], section["embedding"], DATASET / s.path)
                         for s in samples])  # fmt: skip

    return retrieval_metrics(embed(test), [s.label for s in test], embed(train), [s.label for s in train])


def _product(encoder, train: list[Sample], test: list[Sample], tmp: Path) -> dict[str, float]:
    """MAP@10 and P@5 through the indexer and SearchService."""
    from store.ingestion.indexer import Indexer
    from store.services.search import SearchService
    from store.storage.archive import locate_index
    from store.storage.catalog import Catalog

    archive = tmp / "gallery"
    _link(train, archive)
    location = locate_index(archive)
    with Catalog(location.catalog_path) as catalog:
        Indexer(location, catalog, encoder).index(captions=False)
    service = SearchService.open(archive, image_encoder=encoder)
    try:
        ranked = [
            [
                r.path.split("/")[0]
                for r in service.similar_to_image(DATASET / s.path, top=10, all=True).results
            ]
            for s in test
        ]
    finally:
        service.close()
    return ranked_metrics(ranked, [s.label for s in test], [s.label for s in train])


def _tags(encoder, test: list[Sample]) -> tuple[float, float, int, int]:
    """Top-1 and top-5 tag accuracy on test images of mapped classes; (mapped classes, images)."""
    from store.ingestion.decoder import decode_file

    known = set(encoder.labels)
    mapping = {c: set(v) & known for c, v in CALTECH_TO_IMAGENET.items() if set(v) & known}
    samples = [s for s in test if s.label in mapping]
    top1 = top5 = 0
    for sample in samples:
        image = decode_file(DATASET / sample.path, target_size=encoder.input_size)[1].image
        names = [name for name, _ in encoder.encode_and_label([image], 5)[1][0]]
        top1 += names[0] in mapping[sample.label]
        top5 += bool(mapping[sample.label] & set(names))
    return top1 / len(samples), top5 / len(samples), len(mapping), len(samples)


def run(quick: bool) -> list[Record]:
    if not (DATASET / "train.txt").is_file():
        raise SuiteUnavailable(f"needs the Caltech-101 photographs and split at {DATASET}")
    from benchmarks.throughput import measure_throughput, throughput_record
    from models.bundle import find_bundle
    from models.image_model import ImageModelEncoder
    from models.loading import bundled_models_dir

    bundle = find_bundle(bundled_models_dir(), "image")
    encoder = ImageModelEncoder(bundle)
    train, test = default_split(DATASET)
    train, test = limit_per_class(train, 3 if quick else None), limit_per_class(test, 2 if quick else None)
    size = f"{len(test)} test queries -> {len(train)} train images"
    reference = _reference(bundle, train, test)
    ref_map, ref_p5 = reference["map@10"], reference["p@5"]
    with tempfile.TemporaryDirectory(prefix="imago-bench-real-") as tmp:
        ours = _product(encoder, train, test, Path(tmp))
    our_map, our_p5 = ours["map@10"], ours["p@5"]
    top1, top5, mapped, tagged = _tags(encoder, test)
    with tempfile.TemporaryDirectory(prefix="imago-bench-real-speed-") as tmp:
        archive = Path(tmp) / "archive"
        speed_paths = limit_per_class(sorted(train + test, key=lambda s: s.path), 2 if quick else None)
        _link(speed_paths, archive)
        rates = measure_throughput(archive, encoder, batch_size=32, model_only_images=64 if quick else 512)
    name = bundle.model_id
    return [
        Record.measured(SUITE, f"{name}: find-similar MAP@10, reference ({size})", ref_map, ""),
        Record.measured(
            SUITE,
            f"{name}: find-similar MAP@10, Imago pipeline ({size})",
            our_map,
            "",
            baseline=ref_map,
            note="must be within 0.01 of the reference",
        ),
        Record.measured(SUITE, f"{name}: find-similar P@5, reference", ref_p5, ""),
        Record.measured(SUITE, f"{name}: find-similar P@5, Imago pipeline", our_p5, "", baseline=ref_p5),
        Record.measured(
            SUITE, f"{name}: tag top-1 accuracy ({mapped} mapped classes, {tagged} images)", top1, ""
        ),
        Record.measured(
            SUITE, f"{name}: tag top-5 accuracy ({mapped} mapped classes, {tagged} images)", top5, ""
        ),
        throughput_record(
            SUITE,
            f"{name}: end-to-end indexing, {len(speed_paths)} Caltech-101 photos",
            rates,
            "baseline: the model alone on decoded images",
        ),
    ]
