"""The Ray backend against a real Ray cluster, inside a loopback-only network namespace.

Outside a namespace Ray probes a public address to find its own IP and registers the machine's
external address; no test may send traffic beyond loopback. So the Ray side runs in
`unshare -n sh -c 'ip link set lo up && ...'` (root, as CI runs), driven by tests/ray_netns_sweep.py;
this process never imports Ray. The test checks that

* the README's cluster commands work verbatim: `ray start --head`, `ray start --address=HEAD:6379`
  (HEAD = 127.0.0.1: a second node on this host), the sweep with `--ray auto`, `ray stop`;
* that sweep's trials are bit-identical to the same sweep on the local backend (every progress.csv
  column but the timings, which end in `_s`; the summaries without their times);
* `--ray` without an address starts a Ray instance of its own (and stops it), and on it a Ray worker
  killed mid-trial (a real SIGKILL, three deaths for two trials) is retried once, then its trial
  is recorded as failed, and the sweep finishes with every trial accounted for;
* no process of the namespace is left when it is done.

`test_ray_addresses_sockets_and_kills_in_a_namespace` (issue 23) runs tests/ray_netns_checks.py in a
namespace that also has a veth pair (both ends inside it, so nothing leaves): an address where
nothing or something silent listens fails in one line within seconds, Ctrl-C lands at once and no
--out is left; the instance `--ray` starts listens on loopback only (its sockets are listed); a
SIGKILL of the sweep leaves no Ray process behind for long and the next sweep removes the trials'
temporary folders.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from minirl.cli import main

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
# the README's commands, run verbatim (test_readme_holds_these_commands keeps them in step)
SWEEP = ("minirl sweep --algo ppo --env CartPole-v1 --seeds 0-3 --grid clip_coef=0.1,0.2 "
         "--total-steps 5000 --eval-every 1000 --out runs/sweep")
RAY_START, RAY_STOP = "ray start --head", "ray stop"
RAY_NODE = "ray start --address=HEAD:6379"       # run with HEAD = 127.0.0.1: a second node on this host
RAY_SWEEP = SWEEP + " --ray auto"


def test_readme_holds_these_commands_and_this_test_runs_every_ray_command_of_the_documents():
    text = README.read_text()
    for command in (SWEEP, RAY_START, RAY_NODE, RAY_SWEEP, RAY_STOP):
        assert command in text, f"README.md should show `{command}` (this test runs it)"
    from test_documented_commands import extract_commands, how_to_run
    documented = {c.text: c.where for c in extract_commands() if how_to_run(c.text).expect == "ray"}
    missing = {t: w for t, w in documented.items() if t not in (RAY_START, RAY_NODE, RAY_SWEEP, RAY_STOP)}
    assert not missing, f"Ray commands in the documents that no test runs: {missing}"
    assert set(documented) == {RAY_START, RAY_NODE, RAY_SWEEP, RAY_STOP}


def _can_unshare() -> str | None:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "needs unshare and ip (util-linux, iproute2)"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a network namespace here (root needed): {probe.stderr.strip()[:200]}"
    return None


VETH = ("ip link add v0 type veth peer name v1 && ip addr add 10.254.0.1/24 dev v0 && ip link set v0 up && "
        "ip link set v1 up && ip route add default via 10.254.0.2 dev v0")


def _netns_pids(netns: str) -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(entry / "ns" / "net") == netns and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _in_namespace(script: str, env: dict, result: Path, timeout: float):
    """Run the shell `script` in a network namespace of its own; (its CompletedProcess, the JSON it wrote)."""
    done = subprocess.run(["unshare", "-n", "sh", "-c", script], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return done, json.loads(result.read_text())


def _end_namespace(netns: str | None, ray_tmp: str) -> list[int]:
    """Wait up to 30 s for every process of the namespace to end, kill what is left; return what was left."""
    left = []
    if netns is not None:
        deadline = time.monotonic() + 30
        while (left := _netns_pids(netns)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(ray_tmp, ignore_errors=True)
    return left


def _columns(path: Path) -> dict[str, list[str]]:
    """Every column of progress.csv, as written, except those in seconds (time_s, rollout_s, steps_per_s, ...)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [r[k] for r in rows] for k in rows[0] if not k.endswith("_s")}


def _untimed(summary: dict) -> dict:
    """summary.json without its seconds (keys ending in `_s`, here and in its last row)."""
    out = {k: v for k, v in summary.items() if not k.endswith("_s")}
    if "last_row" in out:
        out["last_row"] = {k: v for k, v in out["last_row"].items() if not k.endswith("_s")}
    return out


@pytest.mark.slow
def test_ray_backend_in_a_loopback_namespace(tmp_path, monkeypatch):
    reason = _can_unshare()
    if importlib.util.find_spec("ray") is None:
        reason = "Ray is not installed (pip install -e '.[ray]'; the dev extra has it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run this test")
    if reason:
        pytest.skip(reason)
    # the local backend: the reference results
    (tmp_path / "local").mkdir()
    monkeypatch.chdir(tmp_path / "local")
    assert main(SWEEP.split()[1:] + ["--jobs", "2"]) == 0
    monkeypatch.chdir(tmp_path)

    work = tmp_path / "ray"
    work.mkdir()
    (work / "request.json").write_text(json.dumps({"ray_start": RAY_START, "ray_node": RAY_NODE.replace("HEAD", "127.0.0.1"),
                                                   "sweep": RAY_SWEEP, "ray_stop": RAY_STOP}))
    ray_tmp = tempfile.mkdtemp(prefix="mr-")          # short: Ray's socket paths must stay under 108 bytes
    (work / "gate").mkdir()
    (work / "home").mkdir()
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "MINIRL_TEST_GATE": str(work / "gate"), "HOME": str(work / "home"), "RAY_TMPDIR": ray_tmp,
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    script = f"ip link set lo up && exec {sys.executable} {HERE / 'ray_netns_sweep.py'} {work}"
    netns = None
    try:
        done, result = _in_namespace(script, env, work / "result.json", timeout=900)
        netns = result["netns"]
        assert done.returncode == 0, done.stderr[-3000:]
        assert netns != os.readlink("/proc/self/ns/net"), "the Ray side must run in its own network namespace"
        for step in ("ray_start", "ray_node", "sweep", "ray_stop"):
            assert step in result and result[step]["rc"] == 0, f"{step}: {json.dumps(result.get(step), indent=1)[-3000:]}"
        assert "the Ray cluster at auto (4 CPUs)" in result["sweep"]["out"], "two nodes of 2 CPUs each"

        # bit-identical trials, whichever backend ran them
        local_root, ray_root = tmp_path / "local" / "runs" / "sweep", work / "ray" / "runs" / "sweep"
        names = [t["name"] for t in json.loads((local_root / "sweep.json").read_text())["trials"]]
        assert len(names) == 8
        for name in names:
            assert _columns(ray_root / name / "progress.csv") == _columns(local_root / name / "progress.csv"), name
            ray_summary = json.loads((ray_root / name / "summary.json").read_text())
            assert _untimed(ray_summary) == _untimed(json.loads((local_root / name / "summary.json").read_text()))
            assert ray_summary["stop_reason"] == "budget"
        assert (ray_root / "report.csv").read_text() == (local_root / "report.csv").read_text()

        # faults, on an instance the sweep started (`--ray`): three worker deaths for two trials -> one
        # retried and finished, one failed after its second death
        fault = result["fault"]
        assert fault["answers"] == ["kill"] * 3 + ["open"] and fault["rc"] == 1, fault["log"]
        assert "a Ray instance started here (2 CPUs)" in fault["log"]
        failures = json.loads((work / "fault" / "failures.json").read_text())
        (failed, record), = failures.items()
        assert record["attempts"] == 2 and "the Ray worker died" in record["error"], record
        other = next(f"ppo-sweep_gate_GatedCartPole-v0/s{s}" for s in (0, 1)
                     if f"ppo-sweep_gate_GatedCartPole-v0/s{s}" != failed)
        assert json.loads((work / "fault" / other / "summary.json").read_text())["stop_reason"] == "budget"
    finally:
        left = _end_namespace(netns, ray_tmp)
    assert not left, f"processes left in the Ray namespace: {left}"


def _loopback(address: str) -> bool:
    host = address.split(" ", 1)[1].rsplit(":", 1)[0]
    return host in ("127.0.0.1", "::1", "::ffff:127.0.0.1")


@pytest.mark.slow
def test_ray_addresses_sockets_and_kills_in_a_namespace(tmp_path):
    reason = _can_unshare()
    if reason is None and subprocess.run(["unshare", "-n", "sh", "-c", VETH], capture_output=True).returncode != 0:
        reason = "cannot make a veth pair in a network namespace here"
    if importlib.util.find_spec("ray") is None:
        reason = "Ray is not installed (pip install -e '.[ray]'; the dev extra has it)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run this test")
        pytest.skip(reason)
    work = tmp_path / "work"
    (work / "gate").mkdir(parents=True)
    (work / "tmp").mkdir()
    ray_tmp = tempfile.mkdtemp(prefix="mr-")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "MINIRL_TEST_GATE": str(work / "gate"), "HOME": str(work), "RAY_TMPDIR": ray_tmp, "TMPDIR": str(work / "tmp"),
           "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    env.pop("RAY_AUTH_MODE", None)                    # the instance --ray starts chooses (token)
    script = f"ip link set lo up && {VETH} && exec {sys.executable} {HERE / 'ray_netns_checks.py'} {work}"
    netns = None
    try:
        done, result = _in_namespace(script, env, work / "checks.json", timeout=1200)
        netns = result["netns"]
        assert done.returncode == 0, done.stderr[-3000:]
        # 1. no cluster at the address: one line within seconds, Ctrl-C at once, no --out left
        for case, needle in (("refused", "nothing answers there"), ("silent", "no answer within 5 s")):
            r = result[case]
            lines = r["err"].strip().splitlines()
            assert r["rc"] == 2 and len(lines) == 1 and needle in lines[0] and "--ray 127.0.0.1:" in lines[0], r
            assert not r["out_exists"] and r["seconds"] < 60, r
        r = result["silent_ctrl_c"]
        assert r["rc"] == 130 and r["after_signal"] < 3 and not r["out_exists"], r
        # 2. the instance of --ray alone listens on loopback only; a SIGKILL of the sweep leaves nothing for long
        assert result["at_gate"] == 2, result["killed_log"]
        sockets = result["sockets"]
        assert sockets and all(_loopback(a) for a in sockets), f"sockets beyond loopback: {sockets}"
        assert not result["left_after_kill"] and result["outlived_s"] < 15, \
            (result["outlived_s"], result["left_after_kill"], result["processes_before_kill"])
        # 3. the next sweep continues and removes the killed trials' temporary folders
        assert result["rerun"]["rc"] == 0, result["rerun"]["err"]
        assert result["trial_temp_left"] == [], result["trial_temp_left"]
    finally:
        left = _end_namespace(netns, ray_tmp)
    assert not left, f"processes left in the Ray namespace: {left}"
