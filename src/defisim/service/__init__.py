"""The user- and agent-facing API: :class:`Simulation`, one facade per protocol, and
read-only views; :class:`RemoteSimulation`, the same interface of a simulation in
another process (over HTTP, :mod:`defisim.server.remote`).

The built-in protocols register here (``governance``, ``futures`` with
:class:`FuturesFacade`); another protocol registers itself with
:func:`register_protocol` and adds no line to this package or to another protocol.
"""

from defisim.evm.protocol import EvmProtocol
from defisim.protocols.amm.protocol import AmmProtocol
from defisim.protocols.compute.protocol import ComputeProtocol
from defisim.protocols.futures import FuturesProtocol
from defisim.protocols.governance import Governance
from defisim.protocols.tokenomics import TokenomicsProtocol

from .amm import AmmFacade, AmmPoolView, PositionView
from .amm_backends import AMM_BACKENDS, amm_protocol
from .compute import AttestationView, ComputeFacade, DealView, compute_protocol
from .futures import FuturesFacade, MarketView, OrderView
from .remote import RemoteSimulation
from .simulation import (
    DEFAULT_PROTOCOLS,
    PROTOCOLS,
    AccountView,
    Simulation,
    register_protocol,
    unregister_protocol,
)
from .tokenomics import SupplyView, TokenomicsFacade

register_protocol("governance", Governance)
register_protocol("futures", FuturesProtocol, FuturesFacade)
register_protocol("amm", AmmProtocol, AmmFacade)
register_protocol("tokenomics", TokenomicsProtocol, TokenomicsFacade)
register_protocol("compute", ComputeProtocol, ComputeFacade)
register_protocol("evm", EvmProtocol)  # not a default: needs the evm extra

__all__ = [
    "AMM_BACKENDS",
    "DEFAULT_PROTOCOLS",
    "PROTOCOLS",
    "AccountView",
    "AmmFacade",
    "AmmPoolView",
    "AttestationView",
    "ComputeFacade",
    "compute_protocol",
    "DealView",
    "PositionView",
    "RemoteSimulation",
    "FuturesFacade",
    "MarketView",
    "OrderView",
    "Simulation",
    "SupplyView",
    "TokenomicsFacade",
    "amm_protocol",
    "register_protocol",
    "unregister_protocol",
]
