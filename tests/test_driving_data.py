"""The driving data: the shipped file reads without highway-env, and regenerating it gives the same data.

highway-fast-v0 steps at about 15-20 per second, so the collection tests use a few dozen real steps:
two collections of the same seed are the same bytes, and the shipped file's first episodes equal a
fresh collection with the shipped seed (the behaviour policy and the env are seeded per episode, so
the first episodes of a long collection are a short collection). They skip with the reason when the
[driving] extra is missing; CI installs it with the dev extra.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from minirl.experiments.driving import data as dd
from minirl.experiments.driving.collect import driving_extra_missing

MISSING = driving_extra_missing()
needs_highway = pytest.mark.skipif(MISSING is not None, reason=f"needs the [driving] extra: {MISSING}")


def test_shipped_data_is_small_and_complete():
    data = dd.load_shipped()
    assert dd.SHIPPED.stat().st_size < 2_000_000
    assert len(data) >= 3000 and data.n_episodes >= 100
    assert data.meta["env_id"] == "highway-fast-v0" and data.meta["seed"] == 0
    assert f"--steps {data.meta['n_steps']} --seed {data.meta['seed']}" in dd.REGENERATE
    # episodes are contiguous, numbered 0..E-1, and end with a crash or the time limit
    assert np.all(np.diff(data.episode) >= 0) and data.episode[-1] == data.n_episodes - 1
    last = np.r_[data.episode[1:] != data.episode[:-1], True]
    assert np.all((data.terminated | data.truncated) == last)
    assert np.all(data.terminated == data.crashed), "highway-fast-v0 terminates exactly on a crash"
    # the behaviour policy both crashes and drives well
    crash_rate = data.crashed[last].mean()
    assert 0.2 < crash_rate < 0.8, crash_rate
    assert np.all(data.reward <= 1.0) and np.all(data.reward >= 0.0)


def test_reading_the_data_does_not_import_highway_env():
    code = ("import sys; from minirl.experiments.driving.data import load_shipped; load_shipped(); "
            "import minirl.experiments.driving.experiment, minirl.commands.driving; "
            "print('highway_env' in sys.modules, 'pygame' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"], f"highway_env / pygame imported: {out}"


def test_save_is_byte_identical_and_load_round_trips(tmp_path):
    data = dd.load_shipped().episodes([0, 1])
    a, b = data.save(tmp_path / "a.npz"), data.save(tmp_path / "b.npz")
    assert open(a, "rb").read() == open(b, "rb").read()
    again = dd.load(a)
    for key, value in data.arrays().items():
        np.testing.assert_array_equal(getattr(again, key), value, err_msg=key)
    assert again.meta == data.meta


def test_load_errors_are_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="minirl driving collect"):
        dd.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(ValueError, match="is not a driving data set.*lacks the fields"):
        dd.load(bad)


@pytest.mark.parametrize("content", [b"garbage, not an archive\n", b"PK\x03\x04 truncated zip", "npy", "pickle"])
def test_a_file_that_is_not_a_data_set_is_refused_in_one_line(tmp_path, content):
    """Never numpy's "load it with allow_pickle=True" advice: that would run code from the file."""
    path = tmp_path / "data.npz"
    if content == "npy":
        np.save(tmp_path / "data.npy", np.zeros(3))
        (tmp_path / "data.npy").rename(path)
    elif content == "pickle":
        np.savez(path, **{k: np.array([object()] * 2, dtype=object) for k in ("obs", "reward")})
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        dd.load(path)
    message = str(info.value)
    assert "is not a driving data set" in message and "\n" not in message
    assert "pickle" not in message.lower(), message


def test_nan_rewards_are_refused_at_load_naming_the_field(tmp_path):
    data = dd.load_shipped().episodes([0, 1])
    data.save(tmp_path / "ok.npz")
    arrays = dict(np.load(tmp_path / "ok.npz"))
    arrays["reward"] = arrays["reward"].copy()
    arrays["reward"][3] = np.nan
    meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    dd.save_npz(tmp_path / "nan.npz", arrays, meta)
    with pytest.raises(ValueError, match=r"field reward holds 1 rows with NaN or inf \(first at row 3\)") as info:
        dd.load(tmp_path / "nan.npz")
    assert "\n" not in str(info.value)


def test_the_shipped_rows_are_nearest_cars_and_the_tracked_rows_follow_cars():
    """The facts the world-model section teaches: rows switch car, `next_tracked` keeps them."""
    data = dd.load_shipped()
    same = data.obs_ids == data.next_ids
    np.testing.assert_array_equal(data.next_tracked[same], data.next_obs[same])
    present = (data.obs[:, 1:, 0] > 0) & (data.next_obs[:, 1:, 0] > 0)
    switch = (~same[:, 1:] & present).sum() / present.sum()
    assert 0.05 < switch < 0.4, switch
    # nobody is observed more than 10 m behind the ego car (see_behind=False): x >= -10 m
    others = data.obs[:, 1:][data.obs[:, 1:, 0] > 0]
    assert others[:, 1].min() * dd.X_RANGE >= -10.0 - 1e-3


@pytest.mark.slow
@needs_highway
def test_collection_is_deterministic_and_regenerates_the_shipped_episodes(tmp_path):
    from minirl.cli import main
    from minirl.experiments.driving.collect import collect

    # the command of the README / REGENERATE, with fewer steps, and the library call: the same bytes
    assert main(["driving", "collect", "--out", str(tmp_path / "cli.npz"), "--steps", "25", "--seed", "0"]) == 0
    first = dd.load(tmp_path / "cli.npz")
    second = collect(25, seed=0).save(tmp_path / "lib.npz")
    digests = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (tmp_path / "cli.npz", second)]
    assert digests[0] == digests[1], "the same seed must give the same file"
    shipped = dd.load_shipped()
    n = first.n_episodes
    head = shipped.episodes(np.arange(n))
    assert len(head) == len(first), (len(head), len(first))
    for key in ("action", "episode", "t", "terminated", "truncated", "crashed", "lane", "on_road",
                "episode_seed", "episode_eps", "obs_ids", "next_ids"):
        np.testing.assert_array_equal(getattr(first, key), getattr(head, key), err_msg=key)
    for key in ("obs", "next_obs", "next_tracked", "reward", "speed", "ego_x", "ego_y", "heading"):
        np.testing.assert_allclose(getattr(first, key), getattr(head, key), rtol=1e-6, atol=1e-6, err_msg=key)
    same = ("env_id", "seed", "behaviour", "actions", "config")      # not the package versions
    assert {k: first.meta[k] for k in same} == {k: shipped.meta[k] for k in same}


# ------------------------------------------------------------------------------ comparisons from one state
def test_shipped_comparisons_are_small_and_complete():
    from minirl.experiments.driving import comparisons as dc

    c = dc.load_shipped()
    assert dc.SHIPPED.stat().st_size < 200_000
    S, K, H = c["seqs"].shape
    assert (S, K, H) == (c["meta"]["starts"], c["meta"]["candidates"], c["meta"]["horizon"]) == (300, 16, 5)
    assert f"--starts {S} --candidates {K} --seed {c['meta']['base_seed']}" in dc.REGENERATE
    assert np.all((c["paid"] >= 0) & (c["paid"] <= H)) and np.all(c["steps"][~c["crashed"]] == H)
    assert 0.2 < c["crashed"].mean() < 0.8, "random sequences both crash and survive"
    garbage = dc.SHIPPED.parent / "__not_there__.npz"
    with pytest.raises(FileNotFoundError, match="collect-comparisons"):
        dc.load(garbage)


@pytest.mark.slow
@needs_highway
def test_collect_comparisons_regenerates_the_first_shipped_starts(tmp_path):
    from minirl.cli import main
    from minirl.experiments.driving import comparisons as dc

    out = tmp_path / "c.npz"
    assert main(["driving", "collect-comparisons", "--out", str(out), "--starts", "2", "--workers", "1"]) == 0
    fresh, shipped = dc.load(out), dc.load_shipped()
    for key in dc.FIELDS:
        np.testing.assert_allclose(fresh[key], shipped[key][:2], rtol=1e-9, atol=1e-9, err_msg=key)
