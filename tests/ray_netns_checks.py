"""Test helper (not a test): Ray's side of issue 23's checks, run inside a network namespace of its own.

    unshare -n sh -c 'ip link set lo up && <a veth pair, see test_sweep_ray.py> && exec python tests/ray_netns_checks.py WORK'

Besides loopback the namespace has a veth pair with 10.254.0.1 and a default route through it, so
Ray sees a "network address" as on a real machine; both ends of the pair are in the namespace, so
nothing can leave it. This script

1. asks `minirl sweep --ray ADDRESS` for a cluster where nothing listens (127.0.0.1:1), where a
   socket accepts and says nothing (once left alone, once interrupted by Ctrl-C as soon as the
   command has connected);
2. starts a sweep with `--ray` alone (a Ray instance of its own) on the gated env, lists every
   listening socket of the namespace while both trials wait at the gate, then SIGKILLs the sweep
   and times how long any of its processes outlive it;
3. runs the same sweep again with the gate open and lists the trial temporary folders left in TMPDIR.

Everything goes to WORK/checks.json; tests/test_sweep_ray.py judges it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_gate import ray_sweep  # noqa: E402

work = Path(sys.argv[1])
result: dict = {"netns": os.readlink("/proc/self/ns/net")}
BASE = [sys.executable, "-m", "minirl", "sweep", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "512"]


def save() -> None:
    (work / "checks.json").write_text(json.dumps(result, indent=1))


def timed(argv, interrupt_when_connected: socket.socket | None = None) -> dict:
    """Run `argv`; with a listening socket, send SIGINT once the command has connected to it."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    signalled, held = None, None
    if interrupt_when_connected is not None:
        interrupt_when_connected.settimeout(120)
        held, _ = interrupt_when_connected.accept()     # the command is waiting for an answer now
        proc.send_signal(signal.SIGINT)
        signalled = time.monotonic()
    out, err = proc.communicate(timeout=300)
    end = time.monotonic()
    if held is not None:
        held.close()
    return {"rc": proc.returncode, "err": err[-3000:], "seconds": round(end - t0, 2),
            "after_signal": None if signalled is None else round(end - signalled, 2)}


# 1. addresses where no Ray cluster answers
result["refused"] = timed([*BASE, "--ray", "127.0.0.1:1", "--out", str(work / "refused" / "out")])
result["refused"]["out_exists"] = (work / "refused").exists()
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)                                 # the kernel accepts connections; nobody ever answers
address = f"127.0.0.1:{silent.getsockname()[1]}"
result["silent"] = timed([*BASE, "--ray", address, "--out", str(work / "silent")])
result["silent"]["out_exists"] = (work / "silent").exists()
silent.close()
fresh = socket.socket()                          # a fresh one: nothing queued from the run above
fresh.bind(("127.0.0.1", 0))
fresh.listen(8)
result["silent_ctrl_c"] = timed([*BASE, "--ray", f"127.0.0.1:{fresh.getsockname()[1]}", "--out",
                                 str(work / "silent_ctrl_c")], interrupt_when_connected=fresh)
result["silent_ctrl_c"]["out_exists"] = (work / "silent_ctrl_c").exists()
fresh.close()
save()


# 2. a Ray instance of the sweep's own: its sockets, then a SIGKILL
def listening() -> list[str]:
    """Every listening TCP socket and unconnected UDP socket of this namespace, as "proto address:port"."""
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if proto.startswith("tcp") and state != "0A":       # 0A: LISTEN
                continue
            if proto.startswith("udp") and state == "01":       # 01: connected to one peer, which alone it
                continue                                       # hears from (a route lookup, not a server)
            host, port = local.split(":")
            raw = bytes.fromhex(host)
            if len(raw) == 4:
                shown = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:                                           # four little-endian 32-bit words
                shown = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            found.append(f"{proto} {shown}:{int(port, 16)}")
    return found


def alive_here() -> list[str]:
    """The processes of this namespace but this script and the shell that started it."""
    mine, found = os.readlink("/proc/self/ns/net"), []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(entry / "ns" / "net") != mine or int(entry.name) in (os.getpid(), os.getppid()):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            found.append(f"{entry.name} {(entry / 'cmdline').read_bytes().replace(bytes(1), b' ')[:60].decode()}")
        except OSError:
            continue
    return found


gate = Path(os.environ["MINIRL_TEST_GATE"])
(gate / "closed").write_text("")
gated = ray_sweep(work / "killed")
with open(work / "killed.log", "w") as log:
    proc = subprocess.Popen(gated, stdout=log, stderr=subprocess.STDOUT)
deadline = time.monotonic() + 240
while len(list(gate.glob("at-*"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
    time.sleep(0.05)
result["at_gate"] = len(list(gate.glob("at-*")))
result["sockets"] = listening()
result["processes_before_kill"] = alive_here()
proc.kill()
proc.wait()
killed = time.monotonic()
while alive_here() and time.monotonic() - killed < 120:
    time.sleep(0.2)
result["outlived_s"] = round(time.monotonic() - killed, 1)
result["left_after_kill"] = alive_here()
result["killed_log"] = (work / "killed.log").read_text()[-3000:]
save()

# 3. the same sweep again, gate open: it continues, and no trial temporary folder is left
(gate / "closed").unlink()
again = subprocess.run(gated, capture_output=True, text=True, timeout=600)
result["rerun"] = {"rc": again.returncode, "err": again.stderr[-3000:]}
tmp = Path(os.environ.get("TMPDIR", "/tmp"))
result["trial_temp_left"] = sorted(p.name for p in tmp.glob("minirl-trial-*"))
deadline = time.monotonic() + 60
while alive_here() and time.monotonic() < deadline:
    time.sleep(0.2)
save()
