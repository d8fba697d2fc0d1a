"""Driving: the hard-to-model black box (`minirl driving`, lesson 11), one folder.

| module | what |
|---|---|
| `data` | the driving data set (highway-env transitions with privileged state), how it is stored, the shipped copy |
| `collect` | how the shipped copy was collected from highway-env (the `driving` extra) |
| `reward` | reward models on privileged features and on observations, beside the toy language |
| `models` | one-step world models, best-of-N through the learned models |
| `planner` | a shooting planner through a model, checked in the real env |
| `tables` | the summary tables `minirl driving` prints |
| `experiment` | runs the parts above and returns plain data (`run_driving`, `DrivingConfig`) |
"""
