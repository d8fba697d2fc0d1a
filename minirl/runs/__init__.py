"""The run machinery: how a run is resolved, started, stored, stopped, resumed and scheduled.

| module | what |
|---|---|
| `spec` | resolve (algo, env, overrides, budget, evaluation) into one complete, validated `RunSpec` |
| `folder` | a run folder's files: the lock with its pid, atomic JSON, claiming a new folder |
| `lockfile` | an exclusive lock the OS drops when its holder dies, on every platform (flock, msvcrt, a marker file) |
| `driver` | the training loop behind `minirl train`: log, evaluate, checkpoint, summarise; start, resume, load |
| `signals` | SIGINT / SIGTERM become one "stop at the next row" request, however many copies arrive |
| `trials` | a trial (one run as plain data) and how it runs in its folder, here or remotely |
| `executor` | the executor protocol both backends follow (`Outcome`, retries, default worker count) |
| `local` | `LocalExecutor`: worker processes on this machine |
| `ray_backend` | `RayExecutor`: Ray tasks on a cluster (the only module that imports Ray) |
| `backends` | `make_executor`: choose a backend from the command line's options |
| `sweep`, `sweep_run`, `sweep_report` | `minirl sweep`: expansion and plan, running, the report |

Nothing here knows what an experiment argues: the comparisons live in `minirl.experiments`.
"""
