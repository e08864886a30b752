"""The numerical witnesses: central differences from forward passes only, the plain loop and the fast engine."""
