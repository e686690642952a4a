"""Where the AMM plug-in's pool cores come from (:class:`PoolCores`).

The plug-in (:class:`~.protocol.AmmProtocol`) keeps the rules around a pool: argument
checks, the ledger, events, recording and the block-end invariants. The pool's own
state and math live in a *core* per pool: by default the exact Python cores of this
package (:class:`~.v2_pair.V2Pair` through :class:`~.v2_pair.V2Factory`,
:class:`~.v3.V3Pool`, :class:`~.balancer.BPool`). Another :class:`PoolCores` can supply
cores with the same attributes, methods, results and :class:`~.errors.PoolError`
reasons whose state lives elsewhere: ``defisim.evm_amm.EvmCores`` runs the official
contract bytecode on an EVM. The plug-in, ``sim.amm``, the agents and the scenarios do
not change.

What a replacement core must offer is what the plug-in and ``sim.amm`` use of the
Python core of its kind (``plugin_v2.py``, ``plugin_v3.py``, ``plugin_balancer.py``,
``service/amm*.py``), including the undo pairs the plug-in uses when the ledger
refuses a step the core has taken: ``_snapshot()`` / ``_restore(state)`` of a V2 pair
(the router) and ``_checkpoint()`` / ``_rollback(state)`` of a Balancer pool. A core
whose state lives outside Python returns its machine from :meth:`PoolCores.shared`, so
the plug-in's snapshots save that state with the machine's own snapshot.
"""

from __future__ import annotations

from typing import Any

from .balancer import BPool
from .v2_pair import V2Factory
from .v3 import V3Pool

__all__ = ["PoolCores"]


class PoolCores:
    """The exact Python pool cores (the default of ``AmmProtocol(cores=...)``).

    ``backend`` names where the pools' state lives (``"python"`` here); it is recorded
    with a run's metadata so results say what produced them.
    """

    backend: str = "python"

    def shared(self) -> tuple:
        """Objects holding pool state outside Python (an EVM): the plug-in's snapshots
        keep them by reference and save their state with :meth:`snapshot`."""
        return ()

    def snapshot(self) -> Any:
        """The state of :meth:`shared` (None: all state is in the Python cores)."""
        return None

    def restore(self, state: Any) -> None:
        """Put back a state from :meth:`snapshot` (any number of times)."""

    def v2_factory(self, fee_to_setter: str = "") -> V2Factory:
        """A new ``UniswapV2Factory`` whose ``new_pair`` builds the V2 pair cores."""
        return V2Factory(fee_to_setter=fee_to_setter)

    def v3_pool(self, fee: int, tick_spacing: int | None = None) -> V3Pool:
        """A new, uninitialised V3 pool core of fee tier ``fee`` (pips). Raises
        ``ValueError`` for a fee tier or spacing the factory does not enable."""
        return V3Pool(fee, tick_spacing)

    def balancer_pool(self, controller: str, factory: str, address: str,
                      variant: str = "balancer") -> Any:
        """A new, empty Balancer V1 pool core (``variant`` ``"balancer"`` or
        ``"ocean_v3"``). Raises ``ValueError`` for an unknown variant."""
        return BPool(controller, factory=factory, address=address, variant=variant)
