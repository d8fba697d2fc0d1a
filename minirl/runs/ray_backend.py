"""The Ray backend of the executor seam: the same `run(fn, tasks)` as `LocalExecutor`, as Ray tasks.

    executor = RayExecutor("auto")              # the cluster this machine joined (`ray start ...`)
    executor = RayExecutor("10.0.0.5:6379")     # a cluster by its head's address
    executor = RayExecutor("local")             # a Ray instance started here, one CPU per core
    for outcome in executor.run(fn, {"key": args, ...}): ...

Only this module imports Ray, and only when an executor is made (`pip install 'minirl-numpy[ray]'`).

* **Tasks.** Each task is a Ray task with `num_cpus=1` (at most one trial per CPU of the cluster)
  and `max_retries=0`: Ray never re-runs a task by itself, this executor counts the attempts exactly
  as `LocalExecutor` does. Its runtime environment sets the BLAS thread variables to one thread
  (`minirl.threads`), and the task limits the BLAS already loaded, as a local worker does.
* **Faults.** A task that raises (`RayTaskError`), or whose worker process or node dies
  (`WorkerCrashedError`, `NodeDiedError`, ... any other `RayError`) is submitted once more; if it
  fails again its Outcome carries the error and the other tasks go on.
* **No shared filesystem.** `remote = True` tells `minirl.runs.trials.run_trials` to send
  `run_trial_remote(trial, files)`: the trial's current files travel with the task, the worker runs
  in a temporary folder, and the files come back to the driver, which writes them. Nodes need
  minirl (with this extra) installed with the same Python, nothing else; no node needs the driver's
  folders. The price: a trial cut off on a remote node (a dead node, Ctrl-C) loses the work since
  its files were last sent, and resumes from the checkpoint that was sent.
* **Connecting.** Before Ray is asked to connect (it retries a dead address for minutes, and
  Ctrl-C waits for it), `probe` checks within `PROBE_S` seconds that a gRPC server answers at the
  address: nothing listening, no answer, or something that is not a Ray cluster is one line
  naming the address, and the sweep leaves no --out folder behind.
* **A Ray instance started here (`--ray` alone) is private.** Every Ray process of it listens on
  127.0.0.1 only (Ray otherwise binds its servers to the machine's network address, where anyone
  who reaches the ports can run code as you), and it uses Ray's token authentication unless
  `RAY_AUTH_MODE` says otherwise, so other users of a shared machine cannot use it either.
  `tests/test_sweep_ray.py` lists its sockets. Ray before 2.52 has no authentication at all; from
  2.52 it has tokens, off by default until 2.59: hence the extra's floor, `ray>=2.52`.
* **Nothing outlives a killed sweep for long.** Ray's own fate sharing ends the GCS, the raylet and
  the workers of an instance started here when the sweep dies, but its two agents wait a minute on
  the dead GCS first. A watchdog process (Linux) holds a pipe from the sweep; when the pipe closes,
  however the sweep ended, it kills whatever is left of the instance's processes.
* **Stopping.** A stop request to the driver (Ctrl-C, SIGTERM) submits nothing more and cancels
  the running tasks; their trials continue from their last saved files on the next run. A second
  one stops at once. Tasks are submitted a cluster's worth of CPUs at a time, so the files of a
  trial are read just before its task is sent.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Iterator

from .executor import Outcome, TaskQueue, check_retries, default_jobs
from .signals import stop_requests

__all__ = ["RayExecutor", "check_address", "check_available"]


def check_address(address: str) -> str:
    """"local", "auto", HOST:PORT or ray://HOST:PORT; anything else raises ValueError (one line)."""
    if not isinstance(address, str) or not (
            address in ("local", "auto") or re.fullmatch(r"(ray://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}", address)):
        raise ValueError(f"--ray {address!r}: give 'auto' (the cluster this machine joined), HOST:PORT of the head "
                         "(e.g. 10.0.0.5:6379), or no value to start a Ray instance here")
    return address


def check_available() -> None:
    """ImportError (one line) if Ray is not installed; does not import it."""
    import importlib.util
    if importlib.util.find_spec("ray") is None:
        raise ImportError(_missing())


def _missing() -> str:
    from ..about import install_hint
    return f"the Ray backend needs Ray: {install_hint('ray')}, on this machine and on every node"


def _private_instance_settings(ray=None) -> None:
    """Before (and, `ray` given, after) importing Ray: the instance started here listens on 127.0.0.1 only
    (Ray's switch for "no cluster": the node's address is loopback, so is every server's) and uses
    token authentication unless RAY_AUTH_MODE is set. The variables reach every Ray process started here."""
    import os
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    constants = getattr(getattr(getattr(ray, "_private", None), "ray_constants", None), "ENABLE_RAY_CLUSTER", None)
    if constants is not None:                            # Ray imported before the variable was set: its copy
        ray._private.ray_constants.ENABLE_RAY_CLUSTER = False


_WATCHDOG = """
import os, signal, sys, time
procs = [tuple(map(int, item.split(":"))) for item in sys.argv[1:]]
sys.stdin.buffer.read()                         # returns when the sweep's end of the pipe closes
time.sleep(1.0)                                 # Ray's own fate sharing goes first
for pid, start in procs:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if int(fields[19]) == start and fields[0] != "Z":     # the same process, not a reused pid
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass
"""


def _descendants() -> list[tuple[int, int]]:
    """(pid, start time) of every descendant of this process, from /proc (Linux)."""
    import os
    parents: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append((int(entry), int(fields[19])))
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _start_watchdog():
    """The watchdog of an instance started here (module doc): a process in its own session holding a pipe
    from this one, given the instance's processes; None where /proc is missing (not Linux)."""
    import os
    import subprocess
    import sys
    if not os.path.isdir("/proc/self"):
        return None
    procs = [f"{pid}:{start}" for pid, start in _descendants()]
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, *procs], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _run_task(fn: Callable, args: tuple) -> Any:
    """What a Ray worker runs: one BLAS thread, then fn(*args)."""
    from ..threads import limit_blas_threads
    limit_blas_threads()
    return fn(*args)


def _error_text(exc) -> str:
    """One readable error from a Ray exception: the task's own exception where there is one."""
    cause = getattr(exc, "cause", None)
    if cause is not None:
        return f"{type(cause).__name__}: {cause}"
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()


PROBE_S = 5.0                  # seconds for a cluster's address to answer before Ray is asked to connect
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])   # + an empty SETTINGS frame


def _host_port(address: str) -> tuple[str, int]:
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    return host.strip("[]"), int(port)


def probe(address: str, timeout: float = PROBE_S) -> None:
    """ConnectionError (one line, naming the address) unless a gRPC server, as Ray's head runs, answers at
    HOST:PORT (or ray://HOST:PORT) within `timeout` seconds: it must return the HTTP/2 SETTINGS frame
    every gRPC server sends first. Interruptible by Ctrl-C at any moment."""
    import socket
    fix = ("start the cluster there (`ray start --head`), check the address, or give --ray without an address to "
           "start a Ray instance here")
    try:
        host, port = _host_port(address)
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_H2_PREFACE)
            head = b""
            while len(head) < 9:
                chunk = sock.recv(9 - len(head))
                if not chunk:
                    break
                head += chunk
    except (socket.timeout, TimeoutError):
        raise ConnectionError(f"--ray {address}: no answer within {timeout:g} s: {fix}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConnectionError(f"--ray {address}: nothing answers there ({reason}): {fix}") from None
    if len(head) < 9 or head[3] != 4:                     # frame type 4: SETTINGS
        raise ConnectionError(f"--ray {address}: something answers there, but not a Ray cluster (no gRPC "
                              f"handshake): {fix}")


def _resolve_auto() -> str | None:
    """The address `--ray auto` means (RAY_ADDRESS, or the cluster this machine started), as Ray finds it."""
    import os
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    try:
        from ray._private.services import canonicalize_bootstrap_address
        return canonicalize_bootstrap_address("auto")
    except Exception:                                     # noqa: BLE001 (Ray's own message comes on connecting)
        return None


class RayExecutor:
    """Run tasks as Ray tasks on a cluster (see the module doc). `retries`: extra attempts per task."""

    name = "ray"
    remote = True                # trials travel with their files (no shared filesystem)

    def __init__(self, address: str = "auto", retries: int = 1, num_cpus: int | None = None):
        self.address, self.retries = check_address(address), check_retries(retries)
        self.stopped: str | None = None                  # the signal that stopped the last run(), if any
        self.cancelled: set[str] = set()                 # tasks the stop request cancelled while they ran
        self.num_cpus = num_cpus if num_cpus is not None else default_jobs()
        if self.address == "local":
            _private_instance_settings()
        elif self.address != "auto":
            probe(self.address)
        try:
            import ray
        except ImportError:
            raise ImportError(_missing()) from None
        self._ray = ray
        self._watchdog = None
        if self.address == "local":
            _private_instance_settings(ray)
        elif self.address == "auto" and _resolve_auto():
            probe(_resolve_auto())
        self._connect()

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        common = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        try:
            if self.address == "local":
                # a private instance (module doc): loopback only, token authentication, a watchdog
                ray.init(address="local", num_cpus=self.num_cpus, _node_ip_address="127.0.0.1", **common)
                self._watchdog = _start_watchdog()
            else:
                ray.init(address=self.address, **common)
        except (ConnectionError, TimeoutError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConnectionError(f"--ray {self.address}: cannot reach a Ray cluster ({first}); start one with "
                                  "`ray start --head`, or give no address to start a Ray instance here") from None

    @property
    def jobs(self) -> int:
        """CPUs of the cluster (trials that can run at once)."""
        self._connect()
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    @property
    def description(self) -> str:
        where = "a Ray instance started here" if self.address == "local" else f"the Ray cluster at {self.address}"
        return f"{where} ({self.jobs} CPUs)"

    def close(self) -> None:
        """Disconnect (and stop the instance if it was started here)."""
        if self._ray.is_initialized():
            self._ray.shutdown()
        if self._watchdog is not None:                     # it ends whatever shutdown left, then exits
            self._watchdog.stdin.close()
            try:
                self._watchdog.wait(timeout=10)
            except Exception:                              # noqa: BLE001 (a watchdog that hangs is not ours to fix)
                pass
            self._watchdog = None

    def run(self, fn: Callable, tasks: dict[str, tuple]) -> Iterator[Outcome]:
        """Run fn(*args) for every (key, args) as Ray tasks; yield an Outcome per task as it finishes.

        `fn` and its arguments must pickle, and `fn` must be importable by name on every node.
        """
        ray = self._ray
        self._connect()
        from ..rollout import ENV_MODULES_VARIABLE, allowed_env_modules
        from ..threads import THREAD_VARIABLES, blas_thread_limit
        env = {name: str(blas_thread_limit()) for name in THREAD_VARIABLES}
        if allowed_env_modules():                    # the user's --env-module, for ids of the module:Env-v0 form
            env[ENV_MODULES_VARIABLE] = ",".join(sorted(allowed_env_modules()))
        task = ray.remote(num_cpus=1, max_retries=0, runtime_env={"env_vars": env})(_run_task)
        self.stopped, self.cancelled = None, set()
        queue = TaskQueue(tasks, self.retries)
        running: dict = {}                                   # ObjectRef -> key
        stopping = False
        with stop_requests("cancelling the running Ray tasks; their trials continue from their last saved "
                           "files on the next run") as stop, stop.armed():
            try:
                while queue or running:
                    if stop.signum is not None and not stopping:
                        stopping, self.stopped = True, stop.name
                        queue.clear()
                        self.cancelled = set(running.values())
                        for ref in running:
                            ray.cancel(ref)
                    slots = self.jobs - len(running) if queue and not stopping else 0
                    for _ in range(max(0, slots)):
                        if not queue:
                            break
                        key = queue.take()
                        running[task.remote(fn, tasks[key])] = key
                    if not running:
                        break
                    ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                    for ref in ready:
                        key = running.pop(ref)
                        try:
                            value = ray.get(ref)
                        except ray.exceptions.TaskCancelledError:
                            continue                          # stopped on request: neither done nor failed
                        except ray.exceptions.RayTaskError as exc:           # the task raised
                            error = _error_text(exc)
                        except ray.exceptions.RayError as exc:               # its worker or node died
                            error = f"the Ray worker died ({_error_text(exc)})"
                        else:
                            yield queue.done(key, value)
                            continue
                        outcome = queue.failed(key, error, stopping)
                        if outcome is not None:
                            yield outcome
            finally:
                for ref in running:
                    ray.cancel(ref, force=True)
