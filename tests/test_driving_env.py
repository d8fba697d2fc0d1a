"""The real-env half of `minirl driving` on a few real highway-fast-v0 steps (needs the [driving] extra).

The exact copy (`envmodel`) must agree with the env it copies, step for step; the pools, planners
and baselines are seeded tasks whose results do not depend on the number of worker processes.
highway-fast-v0 steps at a few dozen per second, so every test uses a handful of steps.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from minirl.experiments.driving.collect import driving_extra_missing

MISSING = driving_extra_missing()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"needs the [driving] extra: {MISSING}")


@pytest.fixture
def env():
    from minirl.experiments.driving.collect import make_env

    e = make_env()
    e.reset(seed=3)
    yield e
    e.close()


def test_rollout_tree_equals_stepping_copies_one_by_one(env):
    from minirl.experiments.driving.envmodel import rollout_tree

    obs_before = env.unwrapped.observation_type.observe().copy()
    seqs = np.array([[3, 3, 1], [3, 3, 0], [3, 4, 1], [0, 2, 2]])      # shared prefixes on purpose
    out = rollout_tree(env, seqs, observe=True)
    for k, seq in enumerate(seqs):
        sim, total = copy.deepcopy(env), 0.0
        for h, a in enumerate(seq):
            obs, reward, terminated, truncated, _ = sim.step(int(a))
            total += reward
            assert out["rewards"][k, h] == pytest.approx(reward), (k, h)
            np.testing.assert_allclose(out["next_obs"][k, h], obs.reshape(25), err_msg=f"candidate {k}, step {h}")
            if terminated or truncated:
                assert out["steps"][k] == h + 1 and out["crashed"][k] == terminated
                break
        assert out["returns"][k] == pytest.approx(total)
    # the env itself was not moved
    np.testing.assert_array_equal(env.unwrapped.observation_type.observe(), obs_before)


def test_planner_through_the_copy_executes_the_best_sequence_first_action(env):
    from minirl.experiments.driving import planner as dp
    from minirl.experiments.driving.envmodel import rollout_tree

    action, first = dp.plan_through_copy(env, horizon=2, n_candidates=6, rng=np.random.default_rng(4))
    seqs = np.random.default_rng(4).integers(0, 5, size=(6, 2))
    out = rollout_tree(env, seqs)
    best = int(np.argmax(out["returns"]))
    assert action == seqs[best, 0] and first == pytest.approx(out["rewards"][best, 0])


def test_tasks_give_the_same_results_on_one_or_two_workers():
    from minirl.experiments.driving.candidates import candidate_task
    from minirl.experiments.driving.experiment import _baseline
    from minirl.experiments.driving.pool import TaskPool

    results = []
    for workers in (1, 2):
        with TaskPool(workers) as pool:
            jobs = [pool.submit(candidate_task, 0, n_candidates=4, horizon=2, warmup=1),
                    pool.submit(_baseline, "always SLOWER", 5, 3)]
            results.append([job.get() for job in jobs])
    (pool_1, base_1), (pool_2, base_2) = results
    assert {k: v for k, v in base_1.items() if k != "predicted"} == {k: v for k, v in base_2.items() if k != "predicted"}
    assert base_1["steps"] == 3 and not base_1["crashed"] and np.isnan(base_1["predicted"])
    for key in ("seqs", "paid", "crashed", "steps", "obs"):
        np.testing.assert_array_equal(pool_1[key], pool_2[key], err_msg=key)


def test_collection_records_stable_identities():
    """`next_tracked` follows the cars of `obs`: where a row kept its car it equals `next_obs`."""
    from minirl.experiments.driving.collect import collect

    data = collect(8, seed=1)
    same = data.obs_ids == data.next_ids                                 # (N, 5)
    assert same[:, 0].all(), "row 0 is always the ego car"
    np.testing.assert_array_equal(data.next_tracked[same], data.next_obs[same])
    present = data.obs[:, :, 0] > 0
    assert np.all((data.obs_ids >= 0) == present)
