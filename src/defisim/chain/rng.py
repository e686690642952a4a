"""Random streams derived from the run's root seed.

Every component and agent draws from its own :class:`numpy.random.Generator`,
derived from the root seed and the stream's *name* (not its creation order), so
adding an agent does not change what the others draw. Same seed and names give
the same numbers, bit for bit, on every machine (PCG64 is platform independent).
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> tuple[int, ...]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class RandomStreams:
    """Factory of named, independent random generators under one root seed.

    Args:
        seed: the run's root seed, a non-negative integer.

    Raises:
        ValueError: if ``seed`` is negative or not an integer.
    """

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = seed

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        """The :class:`numpy.random.SeedSequence` of stream ``name``."""
        return np.random.SeedSequence(entropy=self.seed, spawn_key=_name_key(name))

    def generator(self, name: str) -> np.random.Generator:
        """A fresh generator for stream ``name``; calling twice gives the same sequence."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
