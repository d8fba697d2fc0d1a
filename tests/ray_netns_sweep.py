"""Test helper (not a test): the Ray side of tests/test_sweep_ray.py, run inside a loopback-only namespace.

    unshare -n sh -c 'ip link set lo up && exec python tests/ray_netns_sweep.py WORK'

WORK/request.json gives the commands (the README's, verbatim); the environment gives PATH (the
venv's bin first), PYTHONPATH (tests/, so Ray workers can make the gated env), MINIRL_TEST_GATE,
HOME and RAY_TMPDIR (both in the test's folders). This script starts a Ray cluster with
`ray start --head` and a second node on the same host (`ray start --address=127.0.0.1:6379`), runs
the README's sweep on it (`--ray auto`) in WORK/ray, stops the cluster
with `ray stop`, then runs a fault sweep on a Ray instance the sweep starts itself (`--ray`) and
kills its Ray workers mid-trial (WORK/fault). Everything it saw goes to WORK/result.json; the test
judges it. No address but loopback exists in the namespace.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_gate import ray_sweep, watch_gate  # noqa: E402

work = Path(sys.argv[1])
request = json.loads((work / "request.json").read_text())
result: dict = {"netns": os.readlink("/proc/self/ns/net")}


def save() -> None:
    (work / "result.json").write_text(json.dumps(result, indent=1))


def run(name: str, command: str, cwd: Path, timeout: float = 300) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    done = subprocess.run(shlex.split(command), cwd=cwd, capture_output=True, text=True, timeout=timeout)
    result[name] = {"rc": done.returncode, "out": done.stdout[-4000:], "err": done.stderr[-4000:],
                    "seconds": round(time.monotonic() - t0, 1)}
    save()


save()
try:
    run("ray_start", request["ray_start"], work)
    if result["ray_start"]["rc"] == 0:
        run("ray_node", request["ray_node"], work)
        run("sweep", request["sweep"], work / "ray")
finally:
    run("ray_stop", request["ray_stop"], work)

# faults, on a Ray instance the sweep starts itself (`--ray` without an address); its workers inherit
# this environment (PYTHONPATH, MINIRL_TEST_GATE) from the sweep
gate = Path(os.environ["MINIRL_TEST_GATE"])
(gate / "closed").write_text("")
fault = ray_sweep(work / "fault")
with open(work / "fault.log", "w") as log:
    proc = subprocess.Popen(fault, stdout=log, stderr=subprocess.STDOUT)
kills = []
t0 = time.monotonic()


def decide(pid):
    kills.append(pid)
    return "kill" if len(kills) <= 3 else "open"


answers = watch_gate(gate, proc, decide)
proc.wait()
result["fault"] = {"rc": proc.returncode, "answers": [a for _, a in answers], "seconds": round(time.monotonic() - t0, 1),
                   "log": (work / "fault.log").read_text()}
save()
