"""The money flows that close or charge a deal (``compute-marketplace.md`` 4.3, 4.5).

Every function moves exact base units with ledger transfers between the deal's
escrow and collateral accounts (:mod:`.deals`) and general accounts, and returns the
amounts paid, ``{"client", "provider", "mediators", "treasury", "jackpot"}``, for the
:class:`~.events.DealClosed` event. Fractions (tax rate, jackpot fraction, slash
share) enter exactly through their decimal text, so ``ceil(0.1 * 100)`` is 10.
"""

from __future__ import annotations

import math
from fractions import Fraction

from defisim.chain.ledger import Ledger, general

from .deals import Deal, collateral_key, escrow_key
from .params import ComputeParams


def exact(x: float) -> Fraction:
    """``x`` as the fraction its shortest decimal text denotes (0.1 -> 1/10)."""
    return Fraction(repr(float(x)))


def tax_of(price: int, params: ComputeParams) -> tuple[int, int]:
    """``(treasury share, jackpot share)`` of the tax on ``price``: the tax is
    ``ceil(tax_rate*P)`` (4.3.4), the jackpot gets ``floor(jackpot_fraction*tax)`` (4.5)."""
    tax = math.ceil(exact(params.tax_rate) * price)
    jackpot = math.floor(exact(params.jackpot_fraction) * tax)
    return tax - jackpot, jackpot


def _paid(**kw: int) -> dict[str, int]:
    out = dict.fromkeys(("client", "provider", "mediators", "treasury", "jackpot"), 0)
    out.update(kw)
    return out


def collect(led: Ledger, deal: Deal, params: ComputeParams) -> dict[str, int]:
    """Step 4.3.4: ``P - tax`` and C to the provider, the tax to treasury and jackpot,
    what is left of D to the client. Per-instruction pricing: the payment is
    π*N_reported (taxed), and the client also gets π*(N - N_reported) back."""
    t, p = deal.terms, deal.token
    esc, col = escrow_key(deal.client, p, deal.escrow_uid), collateral_key(deal.provider, p, deal.escrow_uid)
    pay = t.payment(deal.reported)
    to_treasury, to_jackpot = tax_of(pay, params)
    led.transfer(esc, general(deal.provider, p), pay - to_treasury - to_jackpot, "compute_payment")
    led.transfer(esc, general(params.treasury, p), to_treasury, "compute_tax")
    led.transfer(esc, general(params.jackpot, p), to_jackpot, "compute_jackpot")
    back = led.transfer_all(esc, general(deal.client, p), "compute_deposit_return")
    led.transfer(col, general(deal.provider, p), t.cheating_collateral, "compute_collateral_return")
    return _paid(client=back, provider=pay - to_treasury - to_jackpot + t.cheating_collateral,
                 treasury=to_treasury, jackpot=to_jackpot)


def refund(led: Ledger, deal: Deal, with_collateral: bool) -> dict[str, int]:
    """Steps 4.3.7 (timeout: P + D + T to the client) and 4.3.8 (cancel: P + D)."""
    p = deal.token
    to_client = led.transfer_all(escrow_key(deal.client, p, deal.escrow_uid), general(deal.client, p),
                                 "compute_refund")
    if with_collateral:
        to_client += led.transfer_all(collateral_key(deal.provider, p, deal.escrow_uid),
                                      general(deal.client, p), "compute_timeout_deposit")
    return _paid(client=to_client)


def pay_fees(led: Ledger, deal: Deal, mediators: tuple[str, ...]) -> int:
    """A correct verdict (4.3.6): the client owes f to each mediator that posted, out of
    D in the escrow; returns the total."""
    f, p = deal.terms.mediation_fee, deal.token
    esc = escrow_key(deal.client, p, deal.escrow_uid)
    for m in mediators:
        led.transfer(esc, general(m, p), f, "compute_mediation_fee")
    deal.fees_paid += f * len(mediators)
    return f * len(mediators)


def slash(led: Ledger, deal: Deal, mediators: tuple[str, ...], params: ComputeParams,
          challenger: str) -> dict[str, int]:
    """A wrong result (4.3.6): C pays f to each mediator that posted (any shortfall of C
    from D), ``floor(slash_to_client*(C - fees))`` to the client, the rest to the
    treasury; P + D (less fees already paid) back to the client; a challenger gets
    ``cheat_report_reward`` from the jackpot as far as it holds (4.5)."""
    f, p = deal.terms.mediation_fee, deal.token
    esc = escrow_key(deal.client, p, deal.escrow_uid)
    col = collateral_key(deal.provider, p, deal.escrow_uid)
    fees = 0
    for m in mediators:
        from_c = min(f, led.balance(col))
        led.transfer(col, general(m, p), from_c, "compute_mediation_fee")
        led.transfer(esc, general(m, p), f - from_c, "compute_mediation_fee")
        fees += f
    rest = led.balance(col)
    to_client = math.floor(exact(params.slash_to_client) * rest)
    led.transfer(col, general(deal.client, p), to_client, "compute_slash")
    to_treasury = led.transfer_all(col, general(params.treasury, p), "compute_slash")
    to_client += led.transfer_all(esc, general(deal.client, p), "compute_refund")
    reward = 0
    if challenger and params.cheat_report_reward:
        reward = led.transfer_up_to(general(params.jackpot, p), general(challenger, p),
                                    params.cheat_report_reward, "compute_cheat_reward")
    return _paid(client=to_client + reward, mediators=fees, treasury=to_treasury, jackpot=-reward)
