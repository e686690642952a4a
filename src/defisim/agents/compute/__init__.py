"""Compute-marketplace agents and the global state they observe (spec sections 5, 6)."""
