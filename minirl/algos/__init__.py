"""Algorithms: one small file each (REINFORCE, PPO, pathwise, reward models, DPO, ...)."""
