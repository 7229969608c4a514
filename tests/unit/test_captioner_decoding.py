"""Decoding helpers of the GIT captioner with fake decoder steps (no ONNX)."""

from __future__ import annotations

import numpy as np

from models.git_decoding import GenerationSettings, beam_search, greedy_search, process_scores

EOS = 3
SETTINGS = GenerationSettings(bos_token_id=2, eos_token_id=EOS, pad_token_id=0, max_new_tokens=5)


def test_repetition_penalty_divides_positive_and_multiplies_negative_scores():
    scores = np.array([[2.0, -2.0, 1.0, 0.5]], dtype=np.float32)
    settings = GenerationSettings(2, EOS, 0, repetition_penalty=2.0)
    out = process_scores(np.array([[0, 1, 1]]), scores, settings)
    np.testing.assert_array_equal(out, np.array([[1.0, -4.0, 1.0, 0.5]], dtype=np.float32))


def test_repetition_penalty_on_small_and_zero_scores():
    """transformers divides every positive score (also those below 1) and multiplies negative ones."""
    scores = np.array([[0.5, 0.0, -0.5, 3.0]], dtype=np.float32)
    out = process_scores(np.array([[0, 1, 2]]), scores, GenerationSettings(2, EOS, 0, repetition_penalty=2.0))
    np.testing.assert_array_equal(out, np.array([[0.25, 0.0, -1.0, 3.0]], dtype=np.float32))


def test_no_repeat_ngram_from_the_first_possible_step():
    bigram = GenerationSettings(2, EOS, 0, no_repeat_ngram_size=2)
    out = process_scores(np.array([[5, 5]]), np.zeros((1, 6), dtype=np.float32), bigram)
    assert np.isneginf(out[0, 5]) and np.isfinite(out[0, :5]).all()  # "5 5" seen: 5 after 5 is banned
    unigram = GenerationSettings(2, EOS, 0, no_repeat_ngram_size=1)
    out = process_scores(np.array([[2, 4]]), np.zeros((1, 6), dtype=np.float32), unigram)
    assert np.isneginf(out[0, [2, 4]]).all() and np.isfinite(out[0, [0, 1, 3, 5]]).all()  # no token twice


def test_no_repeat_ngram_bans_the_tokens_that_would_repeat_an_ngram():
    settings = GenerationSettings(2, EOS, 0, no_repeat_ngram_size=2)
    scores = np.zeros((1, 6), dtype=np.float32)
    out = process_scores(np.array([[2, 1, 4, 1]]), scores, settings)  # "1 4" seen: after 1, 4 is banned
    assert np.isneginf(out[0, 4]) and np.isfinite(out[0, [0, 1, 2, 3, 5]]).all()
    untouched = process_scores(np.array([[2]]), np.zeros((1, 6), dtype=np.float32), settings)
    assert np.isfinite(untouched).all()


def _one_hot(tokens, vocab=6):
    logits = np.zeros((len(tokens), vocab), dtype=np.float32)
    logits[np.arange(len(tokens)), tokens] = 5.0
    return logits


def test_greedy_stops_rows_at_eos_and_drops_them_from_the_batch():
    plans = {0: [4, EOS], 1: [5, 4, 5, 4, 5]}  # row 0 ends after two tokens; row 1 runs to max_new_tokens
    batches = []

    def step(input_ids, past):
        batches.append(input_ids.shape[0])
        rows = past[0][:, 0].astype(int)
        done = len(batches)
        return _one_hot([plans[r][done] for r in rows]), past

    past = [np.array([[0.0], [1.0]])]  # the fake cache carries each row's identity
    out = greedy_search(_one_hot([4, 5]), past, step, SETTINGS)
    assert out == [[4, EOS], [5, 4, 5, 4, 5]]
    assert batches == [2, 1, 1, 1]


def test_beam_search_prefers_the_better_finished_hypothesis():
    # first step: token 4 (p~0.6) or 5 (p~0.4); after 4 everything is flat (bad), after 5 EOS is certain
    def step(input_ids, past):
        rows = []
        for token in input_ids[:, 0]:
            row = np.full(6, -20.0, dtype=np.float32)
            if token == 5:
                row[EOS] = 20.0
            else:
                row[:] = 0.0
            rows.append(row)
        return np.stack(rows), past

    first = np.log(np.array([[1e-6, 1e-6, 1e-6, 1e-6, 0.6, 0.4]], dtype=np.float32))
    settings = GenerationSettings(2, EOS, 0, max_new_tokens=5, num_beams=2)
    assert beam_search(first, [np.zeros((1, 1))], step, settings) == [5, EOS]
    greedy = greedy_search(first, [np.zeros((1, 1))], step, GenerationSettings(2, EOS, 0, max_new_tokens=5))
    assert greedy[0][0] == 4
