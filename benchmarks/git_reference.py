"""Benchmark: GIT-base-sized captioner, ONNX with KV cache vs transformers `generate()` (needs [export]).

`run_git_benchmark()` builds a randomly initialised GitForCausalLM with transformers' `GitConfig`
defaults (the GIT-base architecture: ViT-B/16 image tower, 6-layer 768-wide decoder, 30522-token
vocabulary), exports it with `models.export.git`, and times both on the same weights and pixels at a
fixed number of new tokens. The ONNX side runs in a fresh subprocess so its resident memory is the
captioner's alone. Returns a dict of figures for the benchmark harness.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_ONNX_RUN = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
from models.captioner import GitCaptioner
from models.session import SessionOptions

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

args = json.loads(sys.argv[1])
pixels = np.load(args["pixels"])
before = rss_mib()
out = {}
for beams in args["beams"]:
    options = SessionOptions(intra_op_threads=args["threads"])
    captioner = GitCaptioner(Path(args["bundle"]), options, beams=beams, max_tokens=args["tokens"])
    captioner.load()
    out["rss_loaded_mib"] = rss_mib()
    # feed the same pixels transformers gets: bypass image decoding, keep everything else
    features = lambda px: captioner._image_session.run(["image_features"], {"pixel_values": px})[0]
    from models.git_decoding import beam_search, greedy_search
    def generate(px):
        if beams == 1:
            logits, past = captioner._first_step(features(px))
            return greedy_search(logits, past, captioner._step, captioner.settings)
        result = []
        for row in range(px.shape[0]):
            logits, past = captioner._first_step(features(px[row:row + 1]))
            result.append(beam_search(logits, past, captioner._step, captioner.settings))
        return result
    generate(pixels[:1])  # warm-up
    ids, start = [], time.perf_counter()
    for i in range(pixels.shape[0]):
        ids += generate(pixels[i:i + 1])
    elapsed = time.perf_counter() - start
    out[f"beams{beams}"] = {"seconds": elapsed, "token_ids": ids}
    start = time.perf_counter()
    batched = generate(pixels) if beams == 1 else None
    if batched is not None:
        out[f"beams{beams}"]["batched_seconds"] = time.perf_counter() - start
    captioner.close()
out["rss_before_mib"] = before
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _vocab_tokenizer(size: int):
    """A WordPiece tokenizer with exactly `size` tokens (the bench model is random; only the size matters)."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import WordPiece

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {t: i for i, t in enumerate(specials)}
    vocab |= {f"w{i}": i for i in range(len(specials), size)}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.add_special_tokens(specials)
    return tokenizer, vocab


def run_git_benchmark(
    images: int = 3,
    new_tokens: int = 20,
    beams: tuple[int, ...] = (1,),
    threads: int = 0,
    work_dir: Path | None = None,
) -> dict:
    """Seconds per caption (ONNX+KV cache vs transformers generate) and resident memory, GIT-base size.

    Both decode exactly `new_tokens` tokens unless the random model emits [SEP] (reported as
    `tokens_per_caption`); `token_ids_agree` says whether both produced the same ids.
    """
    import numpy as np
    import torch
    from transformers import GitConfig, GitForCausalLM

    from models.export.git import write_git_bundle

    with tempfile.TemporaryDirectory(prefix="git-bench-", dir=work_dir) as tmp:
        tmp_dir = Path(tmp)
        tokenizer, vocab = _vocab_tokenizer(GitConfig().vocab_size)
        config = GitConfig(
            bos_token_id=vocab["[CLS]"], eos_token_id=vocab["[SEP]"], pad_token_id=vocab["[PAD]"]
        )
        torch.manual_seed(0)
        model = GitForCausalLM(config).eval()
        preprocessing = {"size": 224, "crop_size": [224, 224], "resample": "bicubic"}
        start = time.perf_counter()
        write_git_bundle(
            model, tokenizer, preprocessing, tmp_dir / "bundle", "git-bench", "random:GitConfig()", "MIT"
        )
        export_seconds = time.perf_counter() - start
        bundle_mib = sum(p.stat().st_size for p in (tmp_dir / "bundle").iterdir()) / 2**20

        generator = torch.Generator().manual_seed(1)
        pixels = torch.randn(images, 3, 224, 224, generator=generator)
        np.save(tmp_dir / "pixels.npy", pixels.numpy())
        args = {
            "bundle": str(tmp_dir / "bundle"),
            "pixels": str(tmp_dir / "pixels.npy"),
            "tokens": new_tokens,
            "beams": list(beams),
            "threads": threads,
        }
        done = subprocess.run(
            [sys.executable, "-c", _ONNX_RUN, json.dumps(args)],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[1],
        )
        if done.returncode != 0:
            raise RuntimeError(f"ONNX benchmark run failed: {done.stderr[-2000:]}")
        onnx = json.loads(done.stdout.strip().splitlines()[-1])

        if threads:
            torch.set_num_threads(threads)
        results: dict = {
            "model": "GitForCausalLM(GitConfig()) random init (GIT-base architecture)",
            "images": images,
            "new_tokens": new_tokens,
            "torch_threads": torch.get_num_threads(),
            "export_seconds": round(export_seconds, 1),
            "bundle_mib": round(bundle_mib, 1),
            "onnx_rss_before_load_mib": round(onnx["rss_before_mib"], 1),
            "onnx_rss_loaded_mib": round(onnx["rss_loaded_mib"], 1),
            "onnx_peak_rss_mib": round(onnx["peak_rss_mib"], 1),
        }
        for width in beams:
            with torch.no_grad():
                model.generate(pixel_values=pixels[:1], max_new_tokens=new_tokens, num_beams=width)  # warm-up
                ids, start = [], time.perf_counter()
                for i in range(images):
                    out = model.generate(
                        pixel_values=pixels[i : i + 1], max_new_tokens=new_tokens, num_beams=width
                    )
                    ids.append(out[0, 1:].tolist())
                torch_seconds = time.perf_counter() - start
            ours = onnx[f"beams{width}"]
            onnx_per = ours["seconds"] / images
            torch_per = torch_seconds / images
            results[f"beams{width}"] = {
                "onnx_s_per_caption": round(onnx_per, 3),
                "onnx_batched_s_per_caption": round(ours["batched_seconds"] / images, 3)
                if "batched_seconds" in ours
                else None,
                "transformers_s_per_caption": round(torch_per, 3),
                "speedup": round(torch_per / onnx_per, 2),
                "tokens_per_caption": [len(t) for t in ours["token_ids"]],
                "token_ids_agree": ours["token_ids"] == ids,
            }
        return results
