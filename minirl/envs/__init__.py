"""Environments: differentiable twins, the toy language, and minirl's Gymnasium ids.

Importing this package (which `import minirl` does) registers the ids under the `minirl/` namespace.
"""
