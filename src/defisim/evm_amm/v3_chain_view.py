"""Windows on a bytecode V3 pool's storage for :class:`~.v3.EvmV3Pool`: :class:`ChainMap`
(the ``ticks``/``bitmap``/``positions`` dicts the Python core's code reads, filled from
the contract on demand) and :class:`KnownPositions` (its ``positions`` mapping)."""

from __future__ import annotations

from typing import Any

from defisim.protocols.amm.v3.position import PositionInfo

__all__ = ["ChainMap", "KnownPositions"]


class ChainMap:
    """A ``dict``-like window on contract storage: ``get`` reads (once) through
    ``read(key) -> value | None``; writes stay local (the Python code's scratch)."""

    __slots__ = ("_read", "_cache")

    def __init__(self, read: Any) -> None:
        self._read = read
        self._cache: dict[Any, Any] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self._cache:
            self._cache[key] = self._read(key)
        value = self._cache[key]
        return default if value is None else value

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: Any) -> bool:
        return self.get(key) is not None

    def __setitem__(self, key: Any, value: Any) -> None:
        self._cache[key] = value

    def pop(self, key: Any, default: Any = None) -> Any:
        value = self.get(key)
        self._cache[key] = None
        return default if value is None else value


class KnownPositions:
    """``positions`` of an :class:`~.v3.EvmV3Pool`: ``(owner, lower, upper) -> PositionInfo``
    for every position minted through it (read from the pool; an ERC-721-less pool
    cannot list its positions, so the keys are remembered here, in minting order)."""

    __slots__ = ("_pool", "_keys")

    def __init__(self, pool: Any) -> None:  # an EvmV3Pool
        self._pool = pool
        self._keys: dict[tuple[Any, int, int], None] = {}

    def remember(self, key: tuple[Any, int, int]) -> None:
        """A position was minted (kept, like the Python core's entry, after it empties)."""
        self._keys[key] = None

    def _info(self, key: tuple[Any, int, int]) -> PositionInfo:
        # an emptied position reads as zeros: the Python core still has its entry
        return self._pool._position(key) or PositionInfo()

    def get(self, key: tuple[Any, int, int], default: Any = None) -> PositionInfo | Any:
        return self._info(key) if key in self._keys else default

    def __getitem__(self, key: tuple[Any, int, int]) -> PositionInfo:
        if key not in self._keys:
            raise KeyError(key)
        return self._info(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self):
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self):
        return list(self._keys)

    def items(self):
        return [(k, self._info(k)) for k in self._keys]

    def values(self):
        return [self._info(k) for k in self._keys]
