"""Lesson 11: segment returns and where a reward model orders segments wrongly (`lessons/algos/segment_prefs.py`).

    pytest -m lesson11                     # the reference implementation
    pytest --impl lessons -m lesson11      # your implementation (see notebooks/11_driving.ipynb)
"""

import numpy as np
import pytest
from helpers import assert_close, check_array, check_scalar

pytestmark = pytest.mark.lesson11


# ------------------------------------------------------------------------------ segment_sums
OFF_BY_ONE = ("a segment starting at s covers steps s, s+1, ..., s+L-1: L steps, "
              "starts[..., None] + np.arange(length), not np.arange(length + 1)")


def _segment_sums(m, values, starts, length):
    """Call the learner's segment_sums; an index past the end is the classic off-by-one."""
    try:
        return m.segment_sums(values, starts, length)
    except IndexError as exc:
        raise AssertionError(f"segment_sums raised IndexError ({exc}): {OFF_BY_ONE}") from None


def test_segment_sums_hand_computed(lesson):
    m = lesson("algos.segment_prefs")
    out = check_array(_segment_sums(m, np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 2]), 2), shape=(2,),
                      dtype_kind="f", name="segment_sums")
    got = np.asarray(out)
    hint = ""
    if np.allclose(got, [1.0, 3.0]):
        hint = "you returned values[starts]: sum the L steps starting at each start, not only the first"
    elif np.allclose(got, [6.0, 10.0]) or np.allclose(got, [3.0, 4.0]) or np.allclose(got, [2.0, 4.0]):
        hint = OFF_BY_ONE
    assert_close(got, [3.0, 7.0], name="segment_sums", hint=hint or "segments [1, 2] and [3, 4] sum to 3 and 7")


def test_segment_sums_keeps_the_shape_of_starts(lesson):
    m = lesson("algos.segment_prefs")
    values = np.arange(10.0)
    starts = np.array([[0, 1, 2], [5, 6, 7]])                        # (2, 3): the A and B segments of 3 pairs
    out = check_array(_segment_sums(m, values, starts, 3), shape=(2, 3), dtype_kind="f", name="segment_sums")
    assert_close(out, [[3, 6, 9], [18, 21, 24]], name="segment_sums",
                 hint="with starts of shape (2, N) the result is (2, N): sum over the LAST axis of "
                      "values[starts[..., None] + arange(L)]")


def test_segment_sums_counts_crashes(lesson):
    m = lesson("algos.segment_prefs")
    crashed = np.array([False, False, True, False, False, True])
    out = check_array(m.segment_sums(crashed, np.array([0, 1, 3]), 3), shape=(3,), dtype_kind="iub",
                      name="segment_sums")
    assert_close(out, [1, 1, 1], name="segment_sums",
                 hint="on a boolean crash flag the segment sum counts the crashes inside each segment")


def test_segment_sums_of_per_step_vectors(lesson):
    """values (T, D) give (..., D): sum over the L steps of each segment, never over the D columns."""
    m = lesson("algos.segment_prefs")
    values = np.arange(12.0).reshape(6, 2)                              # 6 steps, 2 numbers per step
    out = check_array(_segment_sums(m, values, np.array([0, 2]), 2), shape=(2, 2), dtype_kind="f",
                      name="segment_sums")
    hint = ("you summed over the last axis (the D numbers of a step): sum over the L steps, "
            "axis=starts.ndim of values[steps]") if np.allclose(out, [[1, 5], [9, 13]]) else OFF_BY_ONE
    assert_close(out, [[2, 4], [10, 12]], name="segment_sums", hint=hint)


# ------------------------------------------------------------------------------ pair_accuracy
def test_pair_accuracy_counts_agreements(lesson):
    m = lesson("algos.segment_prefs")
    got = check_scalar(m.pair_accuracy([2.0, 0.0, 1.0, 5.0], [1.0, 1.0, 3.0, 4.0],
                                       [10.0, 10.0, 0.0, 1.0], [0.0, 0.0, 2.0, 2.0]), name="pair_accuracy")
    # model prefers A, B, B, A; truth prefers A, A, B, B: agreements 1, 0, 1, 0
    assert got == pytest.approx(0.5), (f"pair_accuracy gave {got}, expected 0.5 (2 of 4 pairs ordered right): "
                                       "compare the SIGNS of (score_a - score_b) and (return_a - return_b)")
    got = check_scalar(m.pair_accuracy([2.0, 0.0, 1.0], [1.0, 1.0, 3.0], [10.0, 10.0, 0.0], [0.0, 0.0, 2.0]),
                       name="pair_accuracy")
    hint = "you counted disagreements: accuracy is the share of pairs where the orders MATCH" \
        if np.isclose(got, 1 / 3) else "compare the SIGNS of (score_a - score_b) and (return_a - return_b)"
    assert got == pytest.approx(2 / 3), f"pair_accuracy gave {got}, expected 2/3. {hint}"


def test_pair_accuracy_ties_count_half(lesson):
    m = lesson("algos.segment_prefs")
    # pair 0: the model ties; pair 1: the truth ties; pair 2: right; pair 3: wrong
    got = check_scalar(m.pair_accuracy([1.0, 2.0, 3.0, 0.0], [1.0, 1.0, 0.0, 3.0],
                                       [0.0, 5.0, 1.0, 1.0], [1.0, 5.0, 0.0, 0.0]), name="pair_accuracy")
    hints = {0.25: "a tie (model or truth) counts 1/2, not 0", 0.75: "a tie counts 1/2, not 1",
             1 / 3: "do not drop tied pairs: count each as 1/2"}
    hint = next((h for v, h in hints.items() if np.isclose(got, v)), "ties count 1/2")
    assert got == pytest.approx(0.5), f"pair_accuracy gave {got}, expected (0.5 + 0.5 + 1 + 0) / 4 = 0.5. {hint}"


# ------------------------------------------------------------------------------ accuracy_by_crash
def test_accuracy_by_crash_splits_the_pairs(lesson):
    m = lesson("algos.segment_prefs")
    score_a, score_b = np.array([1.0, 1.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    return_a, return_b = np.array([1.0, 1.0, 0.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0, 0.0])
    crash_a = np.array([False, False, True, False, False])
    crash_b = np.array([False, False, False, True, False])
    out = m.accuracy_by_crash(score_a, score_b, return_a, return_b, crash_a, crash_b)
    assert isinstance(out, dict), f"accuracy_by_crash returned {type(out).__name__}, expected a dict"
    for key, want, hint in (("overall", 0.4, "all 5 pairs: 2 ordered right"),
                            ("no_crash", 2 / 3, "pairs 0, 1, 4: no crash in A and none in B; 2 ordered right"),
                            ("crash", 0.0, "a pair is a crash pair when A OR B contains a crash (pairs 2, 3)")):
        assert key in out, f"accuracy_by_crash: the result lacks the key {key!r}"
        assert out[key] == pytest.approx(want), f"accuracy_by_crash[{key!r}] = {out[key]}, expected {want:.3f}: {hint}"
    assert (out["n_crash"], out["n_no_crash"]) == (2, 3), \
        f"expected 2 crash pairs and 3 others, got {out['n_crash']} and {out['n_no_crash']}"


def test_accuracy_by_crash_on_real_driving_data(lesson):
    """The true return orders every untied pair rightly; a score blind to crashes fails on crash pairs."""
    m = lesson("algos.segment_prefs")
    from minirl.experiments.driving.data import load_shipped

    data = load_shipped()
    rng = np.random.default_rng(0)
    starts = m.sample_pairs(data.episode, 5, 2000, rng)
    ret = [check_array(m.segment_sums(data.reward, s, 5), shape=(2000,), name="segment_sums") for s in starts]
    crash = [m.segment_sums(data.crashed, s, 5) > 0 for s in starts]
    exact = m.accuracy_by_crash(ret[0], ret[1], ret[0], ret[1], crash[0], crash[1])
    ties = np.mean(ret[0] == ret[1])                                     # e.g. a segment drawn twice
    assert exact["overall"] == pytest.approx(1.0 - 0.5 * ties), \
        "scoring with the true returns must order every untied pair rightly (ties count 1/2)"
    speed = [m.segment_sums(data.speed, s, 5) for s in starts]          # fast driving, blind to crashes
    blind = m.accuracy_by_crash(speed[0], speed[1], ret[0], ret[1], crash[0], crash[1])
    assert blind["n_crash"] > 20, f"only {blind['n_crash']} crash pairs in 2000: is the crash flag summed per segment?"
    assert blind["crash"] < blind["no_crash"], (
        f"a speed-only score should order crash pairs worse than the others, got crash {blind['crash']:.3f} vs "
        f"no-crash {blind['no_crash']:.3f}: check which pairs count as crash pairs")
