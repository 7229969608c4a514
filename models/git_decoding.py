"""Greedy and beam search over a KV-cached decoder step, reproducing transformers' `generate()`.

Pure numpy: the model is reached through a `Step` callable, so these functions are tested with fakes
as well as with the ONNX decoder. The beam search follows transformers 4.5x's vectorised `_beam_search`
(top 2*beams candidates over all beams, finished hypotheses scored with `length_penalty`, the same
early-stop heuristic), and the score processors follow `RepetitionPenaltyLogitsProcessor` and
`NoRepeatNGramLogitsProcessor`, so token ids match `generate()` on the same weights. Scores are float32
throughout, as in transformers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# (input_ids [b, t], past) -> (logits [b, vocab], present): runs the decoder on new tokens with the cache
Step = Callable[[np.ndarray, list[np.ndarray]], tuple[np.ndarray, list[np.ndarray]]]

_MASKED = np.float32(-1.0e9)  # transformers' "never pick this" score in beam search


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings; defaults are GitForCausalLM's (the checkpoints set no others)."""

    bos_token_id: int
    eos_token_id: int
    pad_token_id: int
    max_new_tokens: int = 20
    num_beams: int = 1
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0
    early_stopping: bool | str = False


def process_scores(sequences: np.ndarray, scores: np.ndarray, settings: GenerationSettings) -> np.ndarray:
    """Apply the repetition penalty and the no-repeat-ngram ban to float32 `scores` [b, vocab] in place."""
    if settings.repetition_penalty != 1.0:
        penalty = np.float32(settings.repetition_penalty)
        for row in range(scores.shape[0]):
            ids = np.unique(sequences[row])
            picked = scores[row, ids]
            scores[row, ids] = np.where(picked < 0, picked * penalty, picked / penalty)
    n = settings.no_repeat_ngram_size
    cur_len = sequences.shape[1]
    if n > 0 and cur_len + 1 >= n:
        for row in range(scores.shape[0]):
            tokens = sequences[row].tolist()
            prefix = tuple(tokens[cur_len + 1 - n :])
            banned = {
                tokens[i + n - 1] for i in range(cur_len - n + 1) if tuple(tokens[i : i + n - 1]) == prefix
            }
            if banned:
                scores[row, sorted(banned)] = -np.inf
    return scores


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return (shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))).astype(np.float32)


def greedy_search(
    logits: np.ndarray, past: list[np.ndarray], step: Step, settings: GenerationSettings
) -> list[list[int]]:
    """Token ids generated for each row (after the [CLS] prompt), ending with EOS when it was produced.

    `logits` [b, vocab] and `past` come from the first decoder call (image features + [CLS]). Finished
    rows are dropped from the batch, which does not change the other rows' results.
    """
    batch = logits.shape[0]
    sequences = np.full((batch, 1), settings.bos_token_id, dtype=np.int64)
    outputs: list[list[int]] = [[] for _ in range(batch)]
    active = np.arange(batch)
    for produced in range(settings.max_new_tokens):
        scores = process_scores(sequences[active], logits.astype(np.float32, copy=True), settings)
        tokens = scores.argmax(axis=-1)
        new_column = np.full((batch, 1), settings.pad_token_id, dtype=np.int64)
        new_column[active, 0] = tokens
        sequences = np.concatenate([sequences, new_column], axis=1)
        for row, token in zip(active, tokens, strict=True):
            outputs[row].append(int(token))
        keep = tokens != settings.eos_token_id
        if produced + 1 == settings.max_new_tokens or not keep.any():
            break
        if not keep.all():
            active = active[keep]
            past = [p[keep] for p in past]
            tokens = tokens[keep]
        logits, past = step(tokens[:, None].astype(np.int64), past)
    return outputs


def beam_search(
    logits: np.ndarray, past: list[np.ndarray], step: Step, settings: GenerationSettings
) -> list[int]:
    """Token ids of the best beam for one image (batch of 1): `logits` [1, vocab], `past` batch 1."""
    beams = settings.num_beams
    vocab = logits.shape[-1]
    prompt_len = 1
    max_length = prompt_len + settings.max_new_tokens
    keep_k = 2 * beams  # one EOS token: max(2, 1 + 1) * beams candidates per step
    top_beam_mask = np.arange(keep_k) < beams
    lp = settings.length_penalty
    early = settings.early_stopping

    logits = np.repeat(logits, beams, axis=0)
    past = [np.repeat(p, beams, axis=0) for p in past]
    running = np.full((beams, max_length), settings.pad_token_id, dtype=np.int64)
    running[:, 0] = settings.bos_token_id
    running_len = np.full(beams, prompt_len)
    running_scores = np.full(beams, _MASKED, dtype=np.float32)
    running_scores[0] = 0.0
    finished = running.copy()
    finished_len = running_len.copy()
    finished_scores = np.full(beams, _MASKED, dtype=np.float32)
    is_finished = np.zeros(beams, dtype=bool)
    improvable = True
    cur_len = prompt_len
    while True:
        log_probs = process_scores(running[:, :cur_len], _log_softmax(logits.astype(np.float32)), settings)
        log_probs = (log_probs + running_scores[:, None]).reshape(-1)
        top = _topk(log_probs, keep_k)
        top_scores = log_probs[top]
        source = top // vocab
        tokens = top % vocab
        cand = running[source]
        cand[:, cur_len] = tokens
        hits = (tokens == settings.eos_token_id) | (cur_len + 1 >= max_length)

        # running beams for the next step: the best candidates that have not stopped
        running_pick = top_scores + hits.astype(np.float32) * _MASKED
        pick = _topk(running_pick, beams)
        next_running = cand[pick]
        next_scores = running_pick[pick]
        next_source = source[pick]

        # finished hypotheses: only the top `beams` candidates may enter
        just_finished = hits & top_beam_mask
        fin_scores = top_scores / np.float32((cur_len + 1 - prompt_len) ** lp)
        if is_finished.all() and early is True:
            fin_scores = fin_scores + _MASKED
        if not improvable:
            fin_scores = fin_scores + _MASKED
        fin_scores = fin_scores + (~just_finished).astype(np.float32) * _MASKED
        merged_scores = np.concatenate([finished_scores, fin_scores])
        merged = np.concatenate([finished, cand])
        merged_len = np.concatenate([finished_len, np.full(keep_k, cur_len + 1)])
        merged_done = np.concatenate([is_finished, just_finished])
        best = _topk(merged_scores, beams)
        finished, finished_scores = merged[best], merged_scores[best]
        finished_len, is_finished = merged_len[best], merged_done[best]

        running, running_scores = next_running, next_scores
        cur_len += 1
        never = early == "never" and lp > 0.0
        hypothetical = max_length - prompt_len if never else cur_len - prompt_len
        best_running = running_scores[0] / np.float32(hypothetical**lp)
        worst_finished = np.where(is_finished, finished_scores.min(), _MASKED)
        improvable = improvable and bool((best_running > worst_finished).any())
        if not improvable or (is_finished.all() and early is True) or hits.all():
            break
        past = [p[next_source] for p in past]
        logits, past = step(running[:, cur_len - 1 : cur_len], past)
    return finished[0, prompt_len : finished_len[0]].tolist()


def _topk(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first; ties keep the lower index first."""
    return np.argsort(-values, kind="stable")[:k]
