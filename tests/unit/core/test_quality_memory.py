"""The quality memory learns from verdicts on similar prompts, forgets old ones, and stays bounded."""

from __future__ import annotations

import base64

import numpy as np
import orjson

from core.lexical import lexical_vector, word_buckets
from core.memory_view import tier_prior
from core.prompt_vector import DIM, EMBEDDING_DIM, decode_vector, encode_vector
from core.quality_memory import MemoryConfig, QualityMemory
from core.verdicts import PendingVerdicts, feedback_value, learn_from_feedback, learn_from_outcomes

DAY = 86_400_000


def _unit(seed: int, n: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _near(base: np.ndarray, seed: int, n: int, noise: float = 0.1) -> np.ndarray:
    noise *= np.sqrt(256 / DIM)  # the same distance whatever the vector's length
    v = base + noise * np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_a_cold_memory_answers_with_the_prior() -> None:
    e = QualityMemory(["m"]).estimate(_unit(1)[0], "m", 0.7, 0)
    assert (e.p, e.evidence, e.prior) == (0.7, 0.0, 0.7)


def test_verdicts_on_similar_prompts_move_the_estimate_and_dissimilar_ones_do_not() -> None:
    mem = QualityMemory(["weak"])
    math, chat = _unit(1)[0], _unit(2)[0]
    mem.learn(_near(math, 3, 40), "weak", [0.0] * 40, [0.5] * 40, [0] * 40)
    mem.learn(_near(chat, 4, 40), "weak", [1.0] * 40, [0.5] * 40, [0] * 40)
    on_math = mem.estimate(_near(math, 5, 1)[0], "weak", 0.5, 0)
    on_chat = mem.estimate(_near(chat, 6, 1)[0], "weak", 0.5, 0)
    assert on_math.memory < 0.2 < 0.8 < on_chat.memory
    assert on_math.evidence > 5 and on_math.p < on_chat.p


def test_old_evidence_decays_so_a_changed_model_is_relearned() -> None:
    mem = QualityMemory(["m"], MemoryConfig(half_life_days=1.0))
    topic = _unit(1)[0]
    mem.learn(_near(topic, 2, 30), "m", [0.0] * 30, [0.5] * 30, [0] * 30)
    fresh = mem.estimate(topic, "m", 0.5, 0)
    stale = mem.estimate(topic, "m", 0.5, 10 * DAY)
    assert stale.evidence < fresh.evidence / 500
    mem.learn(_near(topic, 3, 30), "m", [1.0] * 30, [0.5] * 30, [10 * DAY] * 30)
    assert mem.estimate(topic, "m", 0.5, 10 * DAY).memory > 0.8  # the new behaviour dominates


def test_memory_is_bounded_whatever_the_number_of_verdicts() -> None:
    mem = QualityMemory(["a", "b"], MemoryConfig(capacity=64))
    before = mem.nbytes()
    for i in range(20):
        mem.learn(_unit(i, 50), "a", [1.0] * 50, [0.5] * 50, [i] * 50)
    assert mem.nbytes() == before and mem.learned == 1000
    assert mem._models["a"].size == 64


def test_the_blend_trusts_the_memory_when_it_predicts_better_than_the_prior() -> None:
    mem = QualityMemory(["m"])
    topics = [_unit(s)[0] for s in range(10)]
    good = {i: float(i % 2) for i in range(10)}  # half the topics fail, whatever the prior says
    for r in range(6):
        for i, t in enumerate(topics):
            mem.learn(_near(t, 100 * r + i, 5), "m", [good[i]] * 5, [0.9] * 5, [0] * 5)
    assert mem.blend_weight("m") > 0.8
    assert mem.estimate(topics[1], "m", 0.9, 0).p > 0.8 > 0.2 > mem.estimate(topics[0], "m", 0.9, 0).p


def test_the_blend_leaves_the_memory_when_the_prior_already_knows() -> None:
    mem = QualityMemory(["m"])
    topic = _unit(3)[0]  # every prompt alike: the neighbours cannot tell the easy from the hard
    for r in range(40):
        priors = [0.9 if i % 2 else 0.1 for i in range(10)]  # the prior separates them perfectly
        mem.learn(_near(topic, r, 10), "m", [1.0 if p > 0.5 else 0.0 for p in priors], priors, [0] * 10)
    assert mem.blend_weight("m") < 0.2
    assert mem.estimate(topic, "m", 0.9, 0).p > 0.8 > 0.2 > mem.estimate(topic, "m", 0.1, 0).p


def _embedding(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=EMBEDDING_DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def test_vectors_travel_as_float16_embedding_then_word_buckets_and_bad_ones_are_refused() -> None:
    e1, e2 = _embedding(1), _embedding(2)
    w1, w2 = word_buckets("What is the capital of France?"), word_buckets("The capital of Peru, please")
    assert len(encode_vector(e1)) == 684 and len(encode_vector(e1, w1)) == 692  # 6 words, 6 bytes
    v1, v2 = decode_vector(encode_vector(e1, w1)), decode_vector(encode_vector(e2, w2))
    assert v1 is not None and v2 is not None and v1.shape == (DIM,)
    both = (float(e1 @ e2) + float(lexical_vector(w1) @ lexical_vector(w2))) / 2
    assert abs(float(v1 @ v2) - both) < 2e-3 and abs(float(v1 @ v1) - 1.0) < 2e-3  # the mean of the two cosines
    without_words = decode_vector(encode_vector(e1))
    assert without_words is not None and not without_words[EMBEDDING_DIM:].any()
    nan = np.full(EMBEDDING_DIM, np.nan, dtype=np.float32)
    assert decode_vector("") is None and decode_vector("abc") is None and decode_vector("!" * 684) is None
    assert decode_vector(encode_vector(nan)) is None
    assert decode_vector(base64.b64encode(e1.astype(np.float16).tobytes() + bytes(400)).decode()) is None
    assert decode_vector(encode_vector(e1, bytes(400))) is not None  # the encoder keeps the first MAX_WORDS


def test_word_buckets_are_the_same_in_every_process_and_count_repeats() -> None:
    assert word_buckets("Hello, hello WORLD") == word_buckets("hello hello world") and len(word_buckets("a b c")) == 3
    v = lexical_vector(word_buckets("hello hello world"))
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-6 and np.count_nonzero(v) == 2
    assert word_buckets("東京の天気は？") != b"" and not lexical_vector(b"").any()


def test_learning_from_outcome_messages_skips_other_rows_and_counts_bad_verdicts() -> None:
    mem = QualityMemory(["m"])
    v = encode_vector(_embedding(1), word_buckets("a prompt"))

    def verdict(**over: object) -> bytes:
        return orjson.dumps({"t": "verdicts", "r": {"model": "m", "accepted": 1, "prior": 0.4, "judged_at": 5,
                                                    "embedding": v, **over}})

    values = [verdict(), orjson.dumps({"t": "requests", "r": {}}), b'{"t":"verdicts","r":{"model":"m"}}', b"\xff",
              None, verdict(prior="high"), verdict(round=1, accepted=0)]
    assert learn_from_outcomes(mem, values) == 2  # the row without fields and the unreadable prior
    assert mem.learned == 2
    s = mem._models["m"]
    assert list(s.ys[:s.size]) == [1.0, 0.0]  # a bad row in between does not shift the others
    # the escalated answer's verdict is a neighbour but not a topic count (its selection was on failure)
    assert sum(n.sum() for n in s.topic_n) == len(s.topics) and sum(p.sum() for p in s.topic_pos) == len(s.topics)


def test_held_verdicts_are_learned_together_when_due_and_never_lost() -> None:
    mem = QualityMemory(["m"])
    v = encode_vector(_embedding(1), word_buckets("a prompt"))
    row = orjson.dumps({"t": "verdicts", "r": {"model": "m", "accepted": 1, "prior": 0.4, "judged_at": 5,
                                               "embedding": v}})
    pending = PendingVerdicts(within_ms=250, at_most=3)
    assert not pending.due(0) and pending.wait_ms(0, 1000) == 1000  # nothing held: fetch as long as you like
    pending.add([row], now_ms=1_000)
    assert pending.wait_ms(1_100, 1000) == 150 and not pending.due(1_100)  # the clock runs from the first
    pending.add([row, b"\xff"], now_ms=1_100)
    assert pending.due(1_100)  # three held: as many as it waits for
    assert pending.learn(mem) == 0 and mem.learned == 2 and not pending.due(10_000)
    pending.add([row], now_ms=2_000)
    assert not pending.due(2_249) and pending.wait_ms(2_200, 1000) == 50 and pending.due(2_250)
    assert pending.learn(mem) == 0 and mem.learned == 3 and pending.learn(mem) == 0


def test_tier_prior_is_the_chance_the_model_tier_is_enough() -> None:
    probs = {"1": 0.2, "2": 0.5, "3": 0.3}
    assert [round(tier_prior(probs, t), 2) for t in (1, 2, 3)] == [0.2, 0.7, 1.0]
    assert tier_prior({}, 2) == 0.5


def test_downstream_feedback_overrides_the_verdict_on_the_delivered_answer() -> None:
    mem = QualityMemory(["m"])
    topic = _unit(1)[0]
    mem.learn(_near(topic, 2, 10), "m", [1.0] * 10, [0.5] * 10, [0] * 10, [f"r{i}" for i in range(10)])
    assert mem.estimate(topic, "m", 0.5, 0).memory > 0.8
    events = [orjson.dumps({"request_id": f"r{i}", "label": "thumbs_down"}) for i in range(10)]
    assert learn_from_feedback(mem, [*events, b"not json", orjson.dumps({"request_id": "r1", "label": "meh"})]) == 2
    assert mem.estimate(topic, "m", 0.5, 0).memory < 0.3  # neighbours and topic counts both flipped
    assert mem.apply_feedback("unknown-request", 1.0) == 0


def test_feedback_values_from_score_or_label() -> None:
    assert feedback_value({"score": 0.25}) == 0.25
    assert feedback_value({"label": "Correct"}) == 1.0 and feedback_value({"label": "wrong"}) == 0.0
    assert feedback_value({"score": 7}) is None and feedback_value({"label": "maybe"}) is None


def test_topic_counts_remember_what_the_ring_buffer_has_dropped() -> None:
    with_topics = QualityMemory(["m"], MemoryConfig(capacity=32))
    without = QualityMemory(["m"], MemoryConfig(capacity=32, clusters=()))
    hard, easy = _unit(1)[0], _unit(2)[0]
    for mem in (with_topics, without):
        for r in range(10):  # alternate batches: the hard topic fails, the easy one passes
            mem.learn(_near(hard, 10 + r, 8, noise=0.02), "m", [0.0] * 8, [0.5] * 8, [0] * 8)
            mem.learn(_near(easy, 50 + r, 8, noise=0.02), "m", [1.0] * 8, [0.5] * 8, [0] * 8)
        for r in range(4):  # then enough easy traffic to push every hard verdict out of the buffer
            mem.learn(_near(easy, 90 + r, 8, noise=0.02), "m", [1.0] * 8, [0.5] * 8, [0] * 8)
        s = mem._models["m"]
        assert s.ys[:s.size].min() == 1.0  # no hard verdict left among the neighbours
    on_hard = with_topics.estimate(hard, "m", 0.5, 0).memory
    assert on_hard < without.estimate(hard, "m", 0.5, 0).memory - 0.15  # only the topic counts recall it
    assert on_hard < with_topics.estimate(easy, "m", 0.5, 0).memory - 0.3


def test_the_blend_weighs_the_views_that_predicted_well_and_sums_to_at_most_one() -> None:
    mem = QualityMemory(["m"])
    topics = [_unit(s)[0] for s in range(10)]
    for r in range(6):
        for i, t in enumerate(topics):
            mem.learn(_near(t, 100 * r + i, 5), "m", [float(i % 2)] * 5, [0.9] * 5, [0] * 5)
    w = mem._weights(mem._models["m"])
    assert (w >= 0).all() and 0.8 < w.sum() <= 1.0 + 1e-9


def test_a_large_learning_batch_stores_every_verdict_but_tests_the_views_on_an_even_spread() -> None:
    from core.quality_memory import _spread

    assert list(_spread(5, 64)) == [0, 1, 2, 3, 4]
    picked = _spread(500, 64)
    assert len(set(picked.tolist())) == 64 and picked[0] == 0 and picked[-1] == 499
    assert np.diff(picked).max() - np.diff(picked).min() <= 1  # evenly spread, not the first 64
    mem = QualityMemory(["m"])
    mem.learn(_unit(1, 100), "m", [1.0] * 100, [0.5] * 100, [0] * 100)
    before = mem._models["m"].stack_xx.copy()
    mem.learn(_unit(2, 500), "m", [0.0] * 500, [0.5] * 500, [0] * 500)
    s = mem._models["m"]
    assert mem.learned == 600 and s.size == 600 and s.ys[100:600].max() == 0.0
    assert not np.allclose(before, s.stack_xx)  # the fit did learn from the batch
