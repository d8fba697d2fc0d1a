"""Driving: what makes a model of highway-env hard to learn (`minirl driving`, lesson 11), one folder.

| module | what |
|---|---|
| `data` | the driving data set (highway-env transitions with privileged state and car identities), the shipped copy |
| `collect` | how the shipped copy was collected from highway-env (the `driving` extra) |
| `comparisons` | action sequences compared from one state (the simulator's answers), the shipped copy |
| `reward` | reward models: which inputs, and the outcome and action-sequence rewards learned from preferences |
| `toy` | the toy language measured exactly like driving |
| `models` | the one-step world model and what its error is made of |
| `envmodel` | the real env as an exact model (a copy, stepped without drawing the observation) |
| `planner` | baselines and one planner through exact or learned models, in the real env |
| `candidates` | pools of candidate action sequences per real start, scored by every selector |
| `selection` | exact best-of-N over a pool, paired between selectors |
| `within` | how well a reward ranks the candidates of one start state |
| `rlhf` | PPO in the real env on the env's, a learned or a survival reward (`--long`) |
| `pool` | real-env tasks on a few processes |
| `tables` | the summary tables, each number with its n and an interval |
| `experiment` | runs the parts above and returns plain data (`run_driving`, `DrivingConfig`) |

`MEASURED_PPO` is where the PPO table of one `minirl driving --long` run is shipped (its `ppo.json`,
copied), so that lesson 11 can show it without the long run; the file says which command and
version made it. It may be absent: lesson 11 then says so.
"""

from pathlib import Path

MEASURED_PPO = Path(__file__).resolve().parent / "measured_ppo.json"
