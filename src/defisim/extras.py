"""Optional dependencies ("extras") and one clear error when one is missing.

The core install (``pip install defisim``) simulates, records and plots. The rest is
in extras of ``pyproject.toml`` (:data:`EXTRAS`):

- ``rl``: ``defisim train`` / ``evaluate``, :mod:`defisim.envs`, :mod:`defisim.learning`
  (torch, gymnasium, pettingzoo);
- ``ray``: ``defisim sweep --backend ray``;
- ``optimize``: ``defisim optimize`` (optuna);
- ``ta``: the CMO momentum indicator (TA-Lib);
- ``evm``: :mod:`defisim.evm`, real contract bytecode on an embedded EVM (simular-evm,
  eth-abi, eth-hash);
- ``serve``: ``defisim serve``, :mod:`defisim.server` (strawberry-graphql, fastapi,
  uvicorn; httpx, websockets and plotly for its tests and console);
- ``paper``: live exchange prices for paper trading
  (:class:`defisim.prices.feeds.ExchangeFeed`, ``defisim paper --feed exchange``; ccxt);
- ``all``: every one of them.

Code that needs an extra imports its modules through :func:`require`, which raises
:class:`MissingExtraError` (an :class:`ImportError`) naming the extra and the pip
command, e.g. ``defisim train needs the 'rl' extra (torch is not installed): pip
install 'defisim[rl]'``. This module imports nothing of defisim (the bottom layer).
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS: dict[str, tuple[str, ...]] = {
    "rl": ("torch", "gymnasium", "pettingzoo"),
    "ray": ("ray",),
    "optimize": ("optuna",),
    "ta": ("talib",),
    "evm": ("simular", "eth_abi", "eth_hash"),
    "serve": ("strawberry", "fastapi", "uvicorn"),
    "paper": ("ccxt",),
}
"""Each extra and the modules it provides (import names, not distribution names)."""

FEATURES: dict[str, str] = {
    "rl": "defisim train / evaluate, defisim.envs, defisim.learning",
    "ray": "defisim sweep --backend ray",
    "optimize": "defisim optimize",
    "ta": "the CMO momentum indicator",
    "evm": "defisim.evm (contracts on an embedded EVM)",
    "serve": "defisim serve (defisim.server)",
    "paper": "live exchange prices (defisim paper --feed exchange)",
}
"""What each extra enables, in words."""


class MissingExtraError(ImportError):
    """An optional module is not installed (or cannot be imported).

    Attributes:
        extra: the extra that provides it (``"rl"``, ``"ray"``, ...).
        feature: what needed it (``"defisim train"``, ...).
        module: the module that could not be imported.
    """

    def __init__(self, extra: str, feature: str, module: str, reason: str) -> None:
        self.extra = extra
        self.feature = feature
        self.module = module
        super().__init__(
            f"{feature} needs the '{extra}' extra ({reason}): pip install 'defisim[{extra}]'",
            name=module,
        )


def _check_extra(extra: str) -> None:
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; the extras are {', '.join(EXTRAS)}")


def require(extra: str, *modules: str, feature: str | None = None) -> ModuleType:
    """Import ``modules`` (default: every module of ``extra``) and return the first.

    Args:
        extra: the extra that provides the modules (a key of :data:`EXTRAS`).
        modules: import names (``"torch"``, ``"gymnasium.spaces"``, ...).
        feature: what needs them, for the message (default: the extra's
            :data:`FEATURES` entry).

    Raises:
        MissingExtraError: a module is not installed or fails to import; the message
            names the extra and the pip command, the import error is its cause.
        ValueError: ``extra`` is not one of :data:`EXTRAS`.
    """
    _check_extra(extra)
    names = modules or EXTRAS[extra]
    what = feature or FEATURES[extra]
    first: ModuleType | None = None
    for name in names:
        try:
            mod = importlib.import_module(name)
        except ImportError as exc:
            missing = isinstance(exc, ModuleNotFoundError) and (
                exc.name is None or name == exc.name or name.startswith(exc.name + ".")
            )
            top = name.split(".")[0]
            reason = f"{top} is not installed" if missing else f"cannot import {name}: {exc}"
            raise MissingExtraError(extra, what, name, " ".join(reason.split())) from exc
        if first is None:
            first = mod
    assert first is not None
    return first


def available(extra: str) -> bool:
    """Whether every module of ``extra`` imports (it imports them)."""
    try:
        require(extra)
    except MissingExtraError:
        return False
    return True
