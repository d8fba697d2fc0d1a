"""minirl.memory: the allocator and collector settings of a training process change no number."""

import gc
import math
import sys

import pytest

from minirl.algos.sac import SAC, SACConfig
from minirl.memory import freeze_long_lived, keep_freed_memory, training_process

TIMINGS = ("time_s", "rollout_s", "update_s", "steps_per_s")


def _rows():
    agent = SAC("minirl/Pendulum-v1", SACConfig(hidden_sizes=(16, 16), batch_size=32, learning_starts=50,
                                                log_every=100), seed=3)
    try:
        return [{k: v for k, v in row.items() if k not in TIMINGS} for row in agent.learn_iter(300)]
    finally:
        agent.close()


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            assert x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k])), k


def test_training_inside_training_process_gives_the_same_rows():
    plain = _rows()
    with training_process():
        assert gc.get_freeze_count() > 0                   # the objects alive at the start are frozen
        inside = _rows()
    assert gc.get_freeze_count() == 0                      # and given back to the collector afterwards
    _same(plain, inside)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")
def test_the_allocator_thresholds_are_set_on_glibc():
    assert keep_freed_memory() is True


def test_freezing_counts_the_frozen_objects():
    try:
        assert freeze_long_lived() > 1000                  # at least the imported modules' objects
    finally:
        gc.unfreeze()
