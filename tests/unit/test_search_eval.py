"""Evaluation metrics and the `eval` command on a generated folder-per-class dataset."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_search import FakeImageEncoder, FakeTextEncoder, stripes

import main
from models.errors import InputError
from store.services.evaluation import (
    ensemble_report,
    evaluate,
    pick_weight,
    read_list,
    retrieval_metrics,
    to_table,
    topk_accuracy,
)

CLIP_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "clip-tiny"
ANGLES = {"vertical": 0.0, "diagonal": 0.8, "horizontal": 1.57}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval") / "dataset"
    for name, angle in ANGLES.items():
        (root / name).mkdir(parents=True)
        for n in range(6):
            stripes(angle, 6.0 + n, seed=n).save(root / name / f"img_{n}.png")
    (root / "vertical" / "broken.png").write_bytes(b"not an image")
    return root


def test_retrieval_metrics_by_hand():
    gallery = np.eye(4, dtype=np.float32)
    labels = ["a", "a", "b", "b"]
    query = np.array([[0.9, 0.0, 0.1, 0.0], [0.0, 0.1, 0.9, 0.0]], np.float32)
    # Query 1 (a): ranks a, b, a, b -> relevant at 1 and 3: AP = (1/1 + 2/3) / min(10, 2) = 0.8333.
    # Query 2 (b): ranks b, a, b, a -> AP = (1 + 2/3) / 2 = 0.8333; P@2 = 0.5 for both.
    got = retrieval_metrics(np.array([[0.9, 0.05, 0.1, 0.0], [0.0, 0.1, 0.9, 0.05]], np.float32), ["a", "b"],
                            gallery, labels, k=10, p_at=2)  # fmt: skip
    assert got == pytest.approx({"map@10": (1 + 2 / 3) / 2, "p@2": 0.5})
    twins = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0]], np.float32)
    perfect = retrieval_metrics(query, ["a", "b"], twins, labels, k=10, p_at=2)
    assert perfect == pytest.approx({"map@10": 1.0, "p@2": 1.0})


def test_topk_accuracy():
    scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.05]])
    assert topk_accuracy(scores, ["b", "c"], ["a", "b", "c"]) == {"top1": 0.5, "top5": 1.0}
    # seven classes: the truth ranked 1st, 5th, 6th and 7th
    classes = list("abcdefg")
    scores = np.array(
        [[7, 6, 5, 4, 3, 2, 1], [7, 6, 5, 4, 3, 2, 1], [7, 6, 5, 4, 3, 2, 1], [1, 2, 3, 4, 5, 6, 7]]
    )
    assert topk_accuracy(scores, ["a", "e", "f", "a"], classes) == {"top1": 0.25, "top5": 0.5}


def test_evaluate_with_fake_encoders(dataset):
    report = evaluate(dataset, FakeImageEncoder(), FakeTextEncoder())
    assert report["classes"] == 3 and report["failed_images"] == 1
    assert report["gallery"] + report["queries"] == 18
    assert report["find_similar"]["map@10"] > 0.9  # the fake separates stripe orientations
    assert report["find_similar"]["p@5"] == pytest.approx(0.8)  # the maximum: 4 gallery images per class
    assert report["trained_head"]["top1"] == 1.0
    assert report["zero_shot"]["top5"] == 1.0  # only 3 classes
    assert report["text_to_image"] is None
    assert "| find_similar | map@10 |" in to_table(report)


def _prompt_encoder(dataset: Path, mapping: dict[str, str]) -> FakeTextEncoder:
    """Each class prompt encodes as the mean image vector of the class `mapping[class]`."""
    image = FakeImageEncoder()
    fixed = {}
    for name, shown in mapping.items():
        vectors = image.encode([Image.open(p) for p in sorted((dataset / shown).glob("img_*.png"))])
        fixed[f"a photo of a {name}."] = vectors.mean(axis=0)
    return FakeTextEncoder(fixed)


def test_zero_shot_accuracy_follows_the_prompts(dataset):
    prompts = _prompt_encoder(dataset, {c: c for c in ANGLES})
    right = evaluate(dataset, FakeImageEncoder(), prompts, train_head=False)
    assert right["zero_shot"] == {"top1": 1.0, "top5": 1.0}
    names = list(ANGLES)
    shifted = {c: names[(i + 1) % 3] for i, c in enumerate(names)}  # every prompt shows another class
    wrong = evaluate(dataset, FakeImageEncoder(), _prompt_encoder(dataset, shifted), train_head=False)
    assert wrong["zero_shot"] == {"top1": 0.0, "top5": 1.0}


def test_captions_give_text_to_image_recall(dataset, tmp_path):
    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    captions = {f"{name}/img_2.png": f"{name} stripes" for name in ANGLES}
    (copy / "captions.json").write_text(json.dumps(captions), "utf-8")
    report = evaluate(copy, FakeImageEncoder(), FakeTextEncoder())
    assert set(report["text_to_image"]) == {"recall@1", "recall@5", "recall@10"}
    assert report["text_to_image"]["recall@10"] == 1.0  # only 6 query images


def test_split_files_and_bad_input(dataset, tmp_path):
    train = tmp_path / "train.txt"
    test = tmp_path / "test.txt"
    train.write_text("\n".join(f"{c}/img_{n}.png" for c in ANGLES for n in range(4)), "utf-8")
    test.write_text("\n".join(f"{c}/img_{n}.png" for c in ANGLES for n in (4, 5)), "utf-8")
    report = evaluate(dataset, FakeImageEncoder(), None, gallery=read_list(dataset, train),
                      queries=read_list(dataset, test), train_head=False)  # fmt: skip
    assert (report["gallery"], report["queries"]) == (12, 6)
    assert report["zero_shot"] is None and report["trained_head"] is None
    bad = tmp_path / "bad.txt"
    bad.write_text("../outside/x.png\n", "utf-8")
    with pytest.raises(InputError, match="relative path"):
        read_list(dataset, bad)
    with pytest.raises(InputError, match="cannot read"):
        read_list(dataset, tmp_path / "missing.txt")
    with pytest.raises(InputError, match="not found"):
        evaluate(tmp_path / "nope", FakeImageEncoder())


def test_cli_eval_with_tiny_clip(dataset, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main.main(["eval", str(dataset), "--models", str(CLIP_TINY), "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| find_similar | map@10 |" in table and "| trained_head | top1 |" in table
    report = json.loads(out.read_text("utf-8"))
    assert report["image_model"] == "clip-tiny@1" and report["classes"] == 3
    # --split-file without --query-file is a usage error (argparse's exit status 2)
    assert main.main(["eval", str(dataset), "--split-file", "x.txt", "--models", str(CLIP_TINY)]) == 2
    assert "give both --split-file and --query-file, or neither" in capsys.readouterr().err


class RandomEncoder(FakeImageEncoder):
    """An image model that knows nothing: a pseudo-random unit vector per distinct image."""

    model_id = "fake-random@1"

    def encode(self, images):
        out = []
        for image in images:
            seed = int.from_bytes(hashlib.sha256(image.tobytes()).digest()[:4], "little")
            vec = np.random.default_rng(seed).standard_normal(self.dim)
            out.append(vec / np.linalg.norm(vec))
        return np.stack(out).astype(np.float32)


def test_ensemble_report_each_model_and_the_fusion(dataset):
    fake, noise = FakeImageEncoder(), RandomEncoder()
    report = evaluate(dataset, fake, None, ensemble_encoder=noise, ensemble_weight=0.5, train_head=False)
    ensemble = report["ensemble"]
    assert ensemble["models"] == ["fake-image@1", "fake-random@1"] and ensemble["weight"] == 0.5
    assert ensemble["weight_measured_on"] is None and ensemble["sweep"] is None  # given, not measured
    assert ensemble["first"] == report["find_similar"]
    assert ensemble["second"]["map@10"] < ensemble["first"]["map@10"]
    assert "| find_similar 0.5 x fake-image@1 + 0.5 x fake-random@1 | map@10 |" in to_table(report)


def test_fusion_at_weight_one_and_zero_is_each_model_alone():
    rng = np.random.default_rng(3)
    first, second = (rng.standard_normal((30, 8)).astype(np.float32) for _ in range(2))
    labels = [f"c{n % 5}" for n in range(30)]
    vectors = ((first[:20], first[20:]), (second[:20], second[20:]))
    for weight, alone in ((1.0, "first"), (0.0, "second")):
        report = ensemble_report(*vectors, labels[:20], labels[20:], ("a", "b"), weight)
        assert report["fused"] == report[alone]


@pytest.fixture(scope="module")
def four_classes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval4") / "dataset"
    for name, angle in {"a": 0.0, "b": 0.8, "c": 1.57, "d": 2.4}.items():
        (root / name).mkdir(parents=True)
        for n in range(15):
            stripes(angle, 6.0 + n / 2, seed=n).save(root / name / f"img_{n:02d}.png")
    return root


@pytest.mark.parametrize("good_first", [True, False])
def test_weight_pick_favours_the_model_that_is_not_random(four_classes, good_first):
    models = (FakeImageEncoder(), RandomEncoder())
    first, second = models if good_first else models[::-1]
    ensemble = evaluate(four_classes, first, None, ensemble_encoder=second, train_head=False)["ensemble"]
    assert [row["weight"] for row in ensemble["sweep"]] == [n / 10 for n in range(11)]
    assert ensemble["weight"] >= 0.8 if good_first else ensemble["weight"] <= 0.2
    assert ensemble["weight_measured_on"] == "gallery split: 12 held-out queries against 28 images"
    random_alone = ensemble["second" if good_first else "first"]["map@10"]
    assert ensemble["fused"]["map@10"] > 3 * random_alone


def test_weight_pick_needs_three_gallery_images_in_a_class():
    with pytest.raises(InputError, match="too few gallery images"):
        pick_weight(np.eye(4, dtype=np.float32), np.eye(4, dtype=np.float32), ["a", "a", "b", "b"])


def test_cli_eval_ensemble_picks_and_says_where(dataset, tmp_path, capsys):
    out = tmp_path / "report.json"
    mobilenet = str(Path(main.__file__).parent / "resources" / "models" / "mobilenet-v2-imagenet")
    args = ["eval", str(dataset), "--models", str(CLIP_TINY), "--no-head", "--ensemble", mobilenet]
    assert main.main([*args, "--pick-weight", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| find_similar mobilenet-v2-imagenet@1 | map@10 |" in printed
    assert f"measured on {dataset}, gallery split" in printed
    ensemble = json.loads(out.read_text("utf-8"))["ensemble"]
    assert ensemble["models"] == ["clip-tiny@1", "mobilenet-v2-imagenet@1"] and len(ensemble["sweep"]) == 11
    assert main.main([*args, "--weight", "0.3"]) == 0
    assert "Fusion weight 0.3 for clip-tiny@1 (0.7 for mobilenet-v2-imagenet@1) given, not measured" in (
        capsys.readouterr().out
    )
    for bad in (["--weight", "0.3"], ["--pick-weight"]):  # without --ensemble
        assert main.main(["eval", str(dataset), "--models", str(CLIP_TINY), *bad]) == 2
        assert "need --ensemble BUNDLE" in capsys.readouterr().err
    assert main.main([*args, "--weight", "1.5"]) == 2
    assert main.main([*args, "--weight", "0.3", "--pick-weight"]) == 2
