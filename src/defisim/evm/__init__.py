"""``defisim.evm``: real contract bytecode inside a run, checked against the Python
protocols.

- :mod:`~defisim.evm.artifacts`: compiled contracts from published npm packages
  (Uniswap V2 core and periphery, Uniswap V3 core), installed once into a cache at
  set-up time;
- :mod:`~defisim.evm.abi`: ABIs by name, argument checks, decoding, party addresses;
- :mod:`~defisim.evm.backend`: the backend interface and the embedded EVM (simular-evm);
- :mod:`~defisim.evm.protocol`: the ``evm`` chain protocol and contract wrappers;
- :mod:`~defisim.evm.bridge`: ledger assets onto the EVM and back (an ERC-20 per asset);
- :mod:`~defisim.evm.solidity`: Solidity (OpenZeppelin included) compiled offline with
  the npm ``solc`` (solc-js) into the same artifacts.

A protocol plug-in of the chain (the protocols layer): it imports only ``defisim.chain``
and ``defisim.extras``. The EVM packages come with the ``evm`` extra and are imported on
first use, so ``import defisim.evm`` works on the core install.
"""

from .abi import ZERO_ADDRESS, ContractAbi, EvmError, UnknownFunction, party_address
from .artifacts import PINNED, Artifact, ArtifactError, NpmUnavailable, load_artifact
from .backend import EmbeddedBackend, EvmBackend, EvmRevert, TxResult
from .protocol import Contract, ContractDeployed, EvmLog, EvmProtocol, Reason
from .solidity import SolidityError, compile_solidity

__all__ = [
    "PINNED",
    "ZERO_ADDRESS",
    "Artifact",
    "ArtifactError",
    "Contract",
    "ContractAbi",
    "ContractDeployed",
    "EmbeddedBackend",
    "EvmBackend",
    "EvmError",
    "EvmLog",
    "EvmProtocol",
    "EvmRevert",
    "NpmUnavailable",
    "Reason",
    "SolidityError",
    "TxResult",
    "UnknownFunction",
    "compile_solidity",
    "load_artifact",
    "party_address",
]
