"""The comparisons the course is about: each returns plain data (`minirl.plotting` draws it).

| module | what it shows |
|---|---|
| `compare` | black-box and differentiable arms side by side on one task (`minirl compare`, `make demo`) |
| `estimator_lab` | score-function and pathwise gradient estimators on small problems (`minirl estimators`) |
| `model_error` | planning through a learned model: where its errors compound (lesson 07) |
| `rlhf_frontier`, `rlhf_overopt` | toy RLHF: the reward-KL frontier, over-optimisation (`minirl rlhf`) |
| `driving/` | where a model is hard to learn: highway-env beside the toy language (`minirl driving`) |

How a run is started, stored, stopped and scheduled is not here: that is `minirl.runs`.
"""
