"""`imago caption` end to end on the tiny GIT fixture bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUNDLE = FIXTURES / "models" / "git-tiny-base"
REFERENCE = json.loads((BUNDLE / "reference.json").read_text(encoding="utf-8"))
PATHS = [FIXTURES / "images" / name for name in REFERENCE["images"]]


def _run_json(capsys, *args: str) -> list[dict]:
    assert main.main(["caption", *map(str, PATHS), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_output_in_input_order_matches_transformers(capsys):
    rows = _run_json(capsys, "--model", str(BUNDLE))
    assert [r["path"] for r in rows] == [str(p) for p in PATHS]
    expected = REFERENCE["cases"]["greedy"]
    assert [r["token_ids"] for r in rows] == [e["token_ids"] for e in expected]
    assert [r["caption"] for r in rows] == [e["caption"] for e in expected]


def test_beams_option(capsys):
    rows = _run_json(capsys, "--model", str(BUNDLE), "--beams", "3")
    assert [r["token_ids"] for r in rows] == [e["token_ids"] for e in REFERENCE["cases"]["beam3"]]


def test_installed_bundle_by_name_and_max_tokens(capsys, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(BUNDLE, models / "git-tiny-base")
    rows = _run_json(capsys, "--models", str(models), "--model", "git-tiny-base", "--max-tokens", "2")
    assert [r["token_ids"] for r in rows] == [e["token_ids"][:2] for e in REFERENCE["cases"]["greedy"]]


def test_settings_default_falls_back_to_the_installed_bundle(capsys, tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(BUNDLE, models / "git-tiny-base")
    monkeypatch.setenv("IMAGO_MODELS", str(models))
    rows = _run_json(capsys)
    assert len(rows) == len(PATHS)


def test_plain_output_and_errors(capsys, tmp_path):
    assert main.main(["caption", str(PATHS[0]), "--model", str(BUNDLE)]) == 0
    out = capsys.readouterr().out
    assert out == f"{PATHS[0]}\t{REFERENCE['cases']['greedy'][0]['caption']}\n"

    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main.main(["caption", str(PATHS[0]), str(corrupt), "--model", str(BUNDLE)]) == 1
    captured = capsys.readouterr()
    assert str(corrupt) in captured.err and captured.out == ""

    assert main.main(["caption", str(PATHS[0]), "--models", str(tmp_path / "none")]) == 1
    assert "no git model bundle" in capsys.readouterr().err
