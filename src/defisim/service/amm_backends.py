"""Where a run's AMM pools live: the exact Python cores or the official bytecode.

``amm_protocol("evm")`` is the ``amm`` plug-in with :class:`defisim.evm_amm.EvmCores`:
the same transactions, checks, ledger, events and ``sim.amm`` facade, with every pool's
state and math in the published contracts on an EVM. Scenarios with a ``backend``
parameter (:class:`defisim.scenarios.base.PoolBackendParams`) build their
``amm`` protocol here.
"""

from __future__ import annotations

from defisim.protocols.amm.protocol import AmmProtocol

__all__ = ["AMM_BACKENDS", "EVM_NODES", "amm_protocol"]

AMM_BACKENDS = ("python", "evm")
"""``python``: the exact Python cores (fast); ``evm``: the contracts' bytecode."""
EVM_NODES = ("embedded", "external")
"""The EVM under ``evm``: simular-evm in this process, or a local anvil node."""


def amm_protocol(backend: str = "python", evm_node: str = "embedded") -> AmmProtocol:
    """A new ``amm`` plug-in whose pools run on ``backend`` (:data:`AMM_BACKENDS`),
    with ``evm``, on ``evm_node`` (:data:`EVM_NODES`).

    Raises:
        ValueError: an unknown backend or node.
        defisim.extras.MissingExtraError: ``evm`` without the ``evm`` extra.
        defisim.evm.NpmUnavailable: the contracts cannot be installed (no npm/registry).
    """
    if backend not in AMM_BACKENDS:
        raise ValueError(f"unknown AMM backend {backend!r}; known: {AMM_BACKENDS}")
    if evm_node not in EVM_NODES:
        raise ValueError(f"unknown EVM node {evm_node!r}; known: {EVM_NODES}")
    if backend == "python":
        return AmmProtocol()
    from defisim.evm_amm import EvmCores

    return AmmProtocol(cores=EvmCores(evm_node))
