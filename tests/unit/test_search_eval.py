"""Evaluation metrics and the `eval` command on a generated folder-per-class dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_search import FakeImageEncoder, FakeTextEncoder, stripes

import main
from models.errors import InputError
from store.services.evaluation import evaluate, read_list, retrieval_metrics, to_table, topk_accuracy

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
