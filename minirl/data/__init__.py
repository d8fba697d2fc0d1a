"""Small data sets shipped with minirl, and the code that reads and regenerates them.

* `driving`: transitions of highway-env's `highway-fast-v0` (`highway_fast_v0.npz`), the data of
  `minirl driving` and lesson 11. Reading it needs only NumPy; regenerating it
  (`minirl driving collect`, `minirl.data.driving_collect`) needs the `[driving]` extra.
"""
