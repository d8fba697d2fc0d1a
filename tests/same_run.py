"""What the stacked learners' tests compare: a seed's rows and checkpoint against its single-seed run's."""

import numpy as np

TIMINGS = {"time_s", "rollout_s", "update_s", "steps_per_s"}


def untimed(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in TIMINGS}


def assert_same_run(rows, state, single_rows, single_state):
    """Rows (timings left out) equal value for value (NaN where NaN), every checkpoint array bit for bit."""
    assert len(rows) == len(single_rows)
    for mine, theirs in zip(rows, single_rows):
        assert mine.keys() == theirs.keys()
        for k in mine:
            assert mine[k] == theirs[k] or (np.isnan(mine[k]) and np.isnan(theirs[k])), k
    for k, v in single_state.items():
        if k != "counters.train_time":
            np.testing.assert_array_equal(np.asarray(state[k]), np.asarray(v), err_msg=k)
