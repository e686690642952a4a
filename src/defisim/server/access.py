"""Who may call what through the remote Simulation API: views, a party's own
transactions, and the operator's calls.

Every method of the agents' interface (:mod:`defisim.service.interface`) is classified
in :data:`ACCESS`, keyed by the class that defines it (the simulation's and each
protocol facade's), as one of:

- :data:`VIEW`: reads state; any valid token may call it (a simulated chain's state
  is public, as on a real chain). Property reads are always views.
- the **name of the parameter** that names the acting party (``"party"``,
  ``"source"``, ``"client"``, ...): a transaction of that party; only that party's
  token (or the operator's) may call it. The value is taken after binding the call's
  arguments to the method's signature, defaults included, so a transaction whose
  party parameter defaults to ``""`` (a governance proposal, an oracle price) is the
  operator's unless the caller names itself.
- :data:`TX` / :data:`BUNDLE`: the first argument is a raw
  :class:`~defisim.chain.Transaction` (a sequence of them): every ``sender`` must be
  the caller's party.
- :data:`OPERATOR`: set-up, the clock, minting and other calls of the scenario or the
  runner (creating assets, parties and markets, ``forward_time``,
  ``drain_events``): the operator's token only.

A method that is not in the table (a new service method, a plug-in's facade) is the
operator's until classified (deny by default); ``tests/test_remote_simulation.py``
checks that every method of every registered facade class is classified, so adding
a service method without a rule fails a test. :func:`register_access` adds the rules
of another facade class.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from defisim.service import (
    AmmFacade,
    ComputeFacade,
    FuturesFacade,
    Simulation,
    TokenomicsFacade,
)

__all__ = ["ACCESS", "BUNDLE", "OPERATOR", "TX", "VIEW", "acting_parties", "register_access",
           "rule_of"]

VIEW = "view"
OPERATOR = "operator"
TX = "tx"
BUNDLE = "bundle"


def _table(views: str, operator: str, **acts: str) -> dict[str, str]:
    out = {n: VIEW for n in views.split()}
    out.update({n: OPERATOR for n in operator.split()})
    out.update(acts)
    return out


ACCESS: dict[type, dict[str, str]] = {
    Simulation: _table(
        "accounts balance base_fee equity money next_deadline_ns pending_transactions pnl "
        "receipt recent_events",
        "add_invariant_check begin_block burn create_asset create_party drain_events end_block "
        "forward_time forward_time_ns mint mint_raw rng",
        send=TX, send_bundle=BUNDLE, set_gas_price="party", transfer="source"),
    FuturesFacade: _table(
        "best_prices funding_estimate in_auction indicative_price insurance_pool "
        "last_traded_price liquidity_fee_factor liquidity_provisions margin_levels mark_price "
        "market_config market_depth market_state market_view mid_price open_orders position "
        "position_details positions price_to_raw raw_to_price raw_to_size round_price "
        "round_size size_to_raw supplied_stake target_stake tick_size time_on_book "
        "trade_count trades units",
        "create_market settle_market terminate_market",
        **dict.fromkeys(
            "amend_liquidity amend_order cancel_all cancel_liquidity cancel_order "
            "propose_market_close propose_market_update submit_liquidity submit_oracle_price "
            "submit_order submit_order_raw".split(), "party")),
    AmmFacade: _table(
        "calc_in_given_out pool_view pools position positions price_to_tick quote "
        "quote_exact_in quote_exact_out spot_price sqrt_price_x96 tick_to_price",
        "create_pair create_v3_pool set_quote_asset",
        create_balancer_pool="controller",
        **dict.fromkeys(
            "add_liquidity burn_position collect exit_pool exit_single join_pool join_single "
            "mint_position remove_liquidity swap swap_exact_in swap_exact_out".split(), "party")),
    TokenomicsFacade: _table(
        "decimals grant_view marketplace_view minter_view pending_reward released "
        "router_view staking_view supply vested vesting_view",
        "add_minter create_grant create_marketplace create_minter create_router "
        "create_staking_pool create_token create_vesting_wallet",
        mint="minter", sell="buyer",
        **dict.fromkeys("burn claim deposit disburse distribute mint_due release route stake "
                        "unstake".split(), "party")),
    ComputeFacade: _table(
        "allowed_messages attestation deal deal_ids gas l1_fee last_offer_terms open_requests "
        "result_is_correct topic topic_ids topic_of_escrow valid",
        "force_audit_draws use_scheme",
        approve="party", inbox="party", rejections="party", subscribe="party",
        cancel_escrow="client", challenge="client", claim_timeout="client", escrow="client",
        collect="provider", commence="provider", post_result="provider",
        mediate="mediator", publish="sender", set_l1_base_fee="oracle"),
}
"""Access rule of every method of the interface, by defining class (module docstring).
``compute.inbox`` / ``rejections`` drain, so they are the party's own."""


def register_access(cls: type, rules: Mapping[str, str]) -> None:
    """Classify the methods of another facade class (a plug-in's).

    Raises:
        ValueError: a rule naming a parameter the method does not have, or a method
            the class does not define.
    """
    for name, rule in rules.items():
        fn = getattr(cls, name, None)
        if not callable(fn):
            raise ValueError(f"{cls.__name__}.{name}: no such method")
        if rule not in (VIEW, OPERATOR, TX, BUNDLE) and \
                rule not in inspect.signature(fn).parameters:
            raise ValueError(f"{cls.__name__}.{name}: no parameter {rule!r} names its party")
    ACCESS.setdefault(cls, {}).update(rules)


def rule_of(obj: Any, name: str) -> str:
    """The rule of method ``name`` of ``obj`` (the first class of its MRO with a table
    that names it); :data:`OPERATOR` when none does."""
    for cls in type(obj).__mro__:
        rule = ACCESS.get(cls, {}).get(name)
        if rule is not None:
            return rule
    return OPERATOR


def acting_parties(obj: Any, name: str, args: tuple, kwargs: dict) -> list[str] | None:
    """The parties a call of method ``name`` of ``obj`` acts for: ``[]`` for a view,
    ``None`` for an operator's call, else the parties named by the arguments.

    Raises:
        TypeError: the arguments do not fit the method's signature (nothing ran).
    """
    rule = rule_of(obj, name)
    if rule == VIEW:
        return []
    if rule == OPERATOR:
        return None
    bound = inspect.signature(getattr(obj, name)).bind(*args, **kwargs)
    bound.apply_defaults()
    if rule in (TX, BUNDLE):
        first = next(iter(bound.arguments.values()), None)
        txs = [first] if rule == TX else list(first) if isinstance(first, list | tuple) else []
        return [getattr(t, "sender", None) for t in txs] or [None]
    return [bound.arguments.get(rule)]
