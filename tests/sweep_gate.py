"""Test helper (not a test): a CartPole that pauses in its first step until the test lets it go.

The sweep fault tests need a worker that is certainly *inside* a trial when they kill it. A trial
of the env id `sweep_gate:GatedCartPole-v0` (the `module:Env-v0` form, so any worker process that
can import this module can make it) runs plain CartPole, except that while the folder
$MINIRL_TEST_GATE holds a file `closed`, the first `step` of each process writes `at-<pid>` there
and waits until `closed` is removed or `open-<pid>` appears. By then the trial has claimed its
folder and written its first checkpoint, so the test knows exactly where the run stands.

`watch_gate(gate, proc, decide)` is the test's side: it answers each waiting process with
`decide(pid)` -> "kill" (os.kill SIGKILL) or "open", until `proc` ends.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import gymnasium as gym
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

ENV_ID = "sweep_gate:GatedCartPole-v0"
WAIT_S = 120.0                  # a gate never opened ends the wait with an error, not a hung test


class GatedCartPole(CartPoleEnv):
    announced = False           # per process: only the first step of the first env waits

    def step(self, action):
        gate = os.environ.get("MINIRL_TEST_GATE")
        if not GatedCartPole.announced and gate and os.path.exists(os.path.join(gate, "closed")):
            GatedCartPole.announced = True
            pid = os.getpid()
            Path(gate, f"at-{pid}").write_text(str(pid))
            deadline = time.monotonic() + WAIT_S
            while os.path.exists(os.path.join(gate, "closed")) and not os.path.exists(os.path.join(gate, f"open-{pid}")):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sweep_gate: nobody opened the gate of pid {pid} within {WAIT_S} s")
                time.sleep(0.01)
        return super().step(action)


if "GatedCartPole-v0" not in gym.registry:
    gym.register("GatedCartPole-v0", entry_point=GatedCartPole, max_episode_steps=500, reward_threshold=475.0)


def ray_sweep(out: Path) -> list[str]:
    """The command of a two-trial sweep of the gated env on a Ray instance it starts itself (`--ray`)."""
    import sys
    return [sys.executable, "-m", "minirl", "sweep", "--algo", "ppo", "--env", ENV_ID, "--seeds", "0-1",
            "--total-steps", "1024", "--eval-every", "0", "--out", str(out), "--env-module", "sweep_gate", "--ray"]


def trial_of(out: Path, pid: int) -> str | None:
    """The trial folder (relative to `out`) whose run lock holds `pid` (the trainer writes its pid there)."""
    for lock in out.rglob(".lock"):
        try:
            if int(lock.read_text().strip() or 0) == pid:
                return str(lock.parent.relative_to(out))
        except (OSError, ValueError):
            continue
    return None


def watch_gate(gate: Path, proc, decide, timeout: float = 240.0) -> list[tuple[int, str]]:
    """Answer every process that waits at the gate until `proc` (a Popen) ends; return (pid, answer)s."""
    seen: dict[int, str] = {}
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the sweep did not end within {timeout} s; answered {seen}")
        for marker in sorted(gate.glob("at-*")):
            pid = int(marker.name[3:])
            if pid in seen:
                continue
            answer = decide(pid)
            seen[pid] = answer
            if answer == "kill":
                os.kill(pid, signal.SIGKILL)
            else:
                (gate / f"open-{pid}").write_text("")
        time.sleep(0.02)
    return list(seen.items())
