"""Experiments: side-by-side comparisons that return plain data (plotting turns it into figures)."""
