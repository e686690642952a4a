"""The optional L1 data fee of the compute protocol (``compute-marketplace.md`` 4.6).

On an OP-stack L2 every transaction also pays for posting its calldata to L1:
``l1_base_fee * (16*calldata_bytes + 188) * 0.684`` wei (Bedrock's form,
:func:`~.gas.l1_data_fee_wei`), taken from the sender's native balance on top of the
L2 gas, whether the call then succeeds or is refused (the data was posted). The L1
base fee is read on chain, as OP's ``L1Block`` contract holds it: the oracle party
(``ComputeParams.l1_oracle``) posts it with ``set_l1_base_fee(wei)`` (the scenario's
system party does so at each 12 s L1 block). The fee goes to the reserved party
``ComputeParams.l1_fee_sink`` (OP's ``L1FeeVault``), so the native asset stays
conserved; a call's receipt carries it in ``l1_fee``.

Off by default (``ComputeParams.l1_data_fee``); on needs the chain's fee market (the
native asset), else :meth:`L1DataFeeMixin.attach` raises ``ValueError``. A sender who
cannot pay the fee is refused (``insufficient_gas_funds``, included: it pays the
revert gas) before the call runs.
"""

from __future__ import annotations

from typing import Any

from defisim.chain.ledger import general
from defisim.chain.transactions import EXECUTED, Receipt

from .gas import CALLDATA_BYTES, l1_data_fee_wei

ORACLE_CALL = "set_l1_base_fee"


class L1DataFeeMixin:
    """The L1 data fee of :class:`~.protocol.ComputeProtocol` (module docstring).

    Attributes:
        l1_base_fee: the last posted L1 base fee, wei per gas (0 until posted).
        l1_fees_paid: total L1 data fees charged, wei.
    """

    l1_base_fee: int = 0
    l1_fees_paid: int = 0

    def _attach_l1_fee(self, chain: Any) -> None:
        p = self.params  # type: ignore[attr-defined]
        self.l1_base_fee, self.l1_fees_paid = 0, 0
        if not p.l1_data_fee:
            return
        if chain.fee_market is None:
            raise ValueError("the L1 data fee (l1_data_fee=True) needs the chain's fee market "
                             "(execution='mempool' with ordering='priority' or fee_market=...)")
        chain.ledger.reserve_party(p.l1_fee_sink)

    def l1_fee_of(self, call: str) -> int:
        """The L1 data fee of ``call`` now, wei (0 when off or for the oracle's call)."""
        if not self.params.l1_data_fee or call == ORACLE_CALL:  # type: ignore[attr-defined]
            return 0
        return l1_data_fee_wei(self.l1_base_fee, CALLDATA_BYTES.get(call, 0))

    def handler(self, call: str) -> Any:
        """The call's handler; with the L1 data fee on, wrapped to charge it first."""
        fn = super().handler(call)  # type: ignore[misc]
        if not self.params.l1_data_fee or call == ORACLE_CALL:  # type: ignore[attr-defined]
            return fn

        def with_l1_fee(sender: str, *args: Any) -> Any:
            fee = self.l1_fee_of(call)
            if fee:
                native = self.chain.fee_market.native_asset  # type: ignore[attr-defined]
                led = self.chain.ledger  # type: ignore[attr-defined]
                have = led.balance(general(sender, native))
                if have < fee:
                    return self.reject(call, sender, "insufficient_gas_funds",  # type: ignore[attr-defined]
                                       f"{sender} holds {have} {native} < L1 data fee {fee}")
                led.transfer(general(sender, native),
                             general(self.params.l1_fee_sink, native), fee,  # type: ignore[attr-defined]
                             "l1_data_fee")
                self.l1_fees_paid += fee
            out = fn(sender, *args)
            if type(out) is Receipt:
                out.l1_fee = fee
            return out

        return with_l1_fee

    def tx_set_l1_base_fee(self, sender: str, wei_per_gas: int) -> Receipt:
        """Post the L1 base fee (wei per gas, an integer >= 0); only the oracle party
        (``not_oracle``; ``bad_fee`` for a bad value)."""
        p = self.params  # type: ignore[attr-defined]
        if sender != p.l1_oracle:
            return self.reject(ORACLE_CALL, sender, "not_oracle",  # type: ignore[attr-defined]
                               f"{sender} is not the L1 fee oracle {p.l1_oracle}")
        if type(wei_per_gas) is not int or wei_per_gas < 0:
            return self.reject(ORACLE_CALL, sender, "bad_fee",  # type: ignore[attr-defined]
                               f"the L1 base fee must be an integer >= 0, got {wei_per_gas!r}")
        self.l1_base_fee = wei_per_gas
        return Receipt(EXECUTED, block=self.chain.block)  # type: ignore[attr-defined]
