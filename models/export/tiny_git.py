"""Tiny, randomly initialised GIT models with the real architecture, and transformers' reference outputs.

`build_tiny_git` gives a `GitForCausalLM` of the base or large shape with a small WordPiece tokenizer
(for `imago models export git --tiny` and the test fixtures); `reference_outputs` records what
transformers' `generate()` makes of images, which the captioner's parity tests compare against.
torch, transformers and tokenizers are imported inside functions (the [export] extra).
"""

from __future__ import annotations

from typing import Any

from models.errors import InputError

# Tiny shapes: the same architecture as the real checkpoints (GIT-base: ViT-B/16 image tower at 224 px;
# GIT-large: ViT-L/14), with widths and layer counts scaled down so fixtures stay a few hundred KiB.
TINY_SHAPES: dict[str, dict[str, Any]] = {
    "base": {
        "vision": {
            "hidden_size": 32,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 64,
            "patch_size": 16,
        },
        "text": {
            "hidden_size": 32,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        "initializer_range": 0.4,
        "eos_bias": 3.0,
    },
    "large": {
        "vision": {
            "hidden_size": 48,
            "intermediate_size": 192,
            "num_hidden_layers": 3,
            "num_attention_heads": 3,
            "image_size": 56,
            "patch_size": 14,
        },
        "text": {
            "hidden_size": 32,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        "initializer_range": 0.2,
        "eos_bias": 1.5,
    },
}
TINY_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TINY_WORDS = (
    "a an the of on in with and at to is are by from its two three some near next front top side "
    "man woman people person child group statue icon church building tower pagoda temple house wall "
    "window door roof street road bridge river water sea sky cloud tree trees flower flowers sunflower "
    "field garden grass plane airplane jet sitting standing flying parked large small old white black "
    "red blue green yellow gold brown dark light picture photo drawing painting image close up view "
    "chandelier lamp ceiling hanging vase ewer jug pot table room glass metal wooden stone"
)
TINY_PUNCT = tuple(".,!?'-:;()\"")


def build_tiny_tokenizer():
    """An uncased BERT-style WordPiece tokenizer with a small vocabulary (GIT uses bert-base-uncased's)."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    digits = [str(d) for d in range(10)]
    vocab_list: list[str] = [*TINY_SPECIALS, *TINY_PUNCT, *letters, *digits]
    vocab_list += [f"##{c}" for c in letters + digits]
    vocab_list += [w for w in TINY_WORDS.split() if w not in vocab_list]
    vocab_list += [f"##{s}" for s in ("s", "es", "ed", "ing", "er", "ly")]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(vocab_list))}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    for special in TINY_SPECIALS:
        tokenizer.add_special_tokens([special])
    return tokenizer


def build_tiny_git(shape: str, seed: int = 0):
    """A randomly initialised GitForCausalLM of `shape` ("base" or "large") and its tiny tokenizer.

    Weights are drawn wider than transformers' default (std 0.02 makes every image give the same
    caption), and the output bias of [SEP] is raised so some captions end early: parity tests then
    cover image-dependent outputs and the stop-at-EOS and finished-beam paths.
    """
    import torch
    from transformers import GitConfig, GitForCausalLM

    if shape not in TINY_SHAPES:
        raise InputError(f"unknown tiny GIT shape {shape!r}; expected one of {', '.join(TINY_SHAPES)}")
    tokenizer = build_tiny_tokenizer()
    vocab = tokenizer.get_vocab()
    dims = TINY_SHAPES[shape]
    init = dims["initializer_range"]
    config = GitConfig(
        vision_config={
            **dims["vision"],
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
            "initializer_range": init,
        },
        vocab_size=tokenizer.get_vocab_size(),
        max_position_embeddings=64,
        bos_token_id=vocab["[CLS]"],
        eos_token_id=vocab["[SEP]"],
        pad_token_id=vocab["[PAD]"],
        initializer_range=init,
        **dims["text"],
    )
    torch.manual_seed(seed)
    model = GitForCausalLM(config)
    with torch.no_grad():
        model.output.bias[vocab["[SEP]"]] += dims["eos_bias"]
    model.eval()
    return model, tokenizer


# Decoding settings the parity fixtures cover: (name, beams, repetition_penalty, no_repeat_ngram_size).
REFERENCE_CASES = (
    ("greedy", 1, None, None),
    ("beam3", 3, None, None),
    ("greedy_penalised", 1, 1.3, 3),
    ("beam3_penalised", 3, 1.3, 3),
    ("beam4_ngram2", 4, None, 2),
)


def reference_outputs(model, tokenizer, images, max_new_tokens: int = 20) -> dict:
    """transformers' `generate()` token ids and decoded captions for `images` under REFERENCE_CASES.

    Images go through `models.preprocess.to_rgb` and then transformers' own CLIPImageProcessor, so the
    references also check Imago's preprocessing. Returns {case: [{"token_ids", "caption"}, ...]}.
    """
    import torch
    from transformers import BertTokenizerFast, CLIPImageProcessor

    from models.preprocess import to_rgb

    vision = model.config.vision_config
    processor = CLIPImageProcessor(size={"shortest_edge": vision.image_size}, crop_size=vision.image_size)
    pixel_values = processor(images=[to_rgb(im) for im in images], return_tensors="pt").pixel_values
    decoder = BertTokenizerFast(tokenizer_object=tokenizer, clean_up_tokenization_spaces=True)
    results: dict[str, list[dict]] = {}
    for name, beams, penalty, ngram in REFERENCE_CASES:
        kwargs = {"max_new_tokens": max_new_tokens, "num_beams": beams}
        if penalty is not None:
            kwargs["repetition_penalty"] = penalty
        if ngram is not None:
            kwargs["no_repeat_ngram_size"] = ngram
        rows = []
        for i in range(pixel_values.shape[0]):
            with torch.no_grad():
                ids = model.generate(pixel_values=pixel_values[i : i + 1], **kwargs)[0, 1:].tolist()
            rows.append({"token_ids": ids, "caption": decoder.decode(ids, skip_special_tokens=True)})
        results[name] = rows
    return results
