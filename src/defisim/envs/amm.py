"""A Gymnasium environment over an AMM pool: a learning swapper or a learning LP.

The scenario (default ``amm_pool``: one V3 WETH/USDC pool kept at a GBM reference
price by an arbitrageur, with noise swappers) is built, warmed up and snapshotted
once by a :class:`~defisim.envs.ScenarioSession` (``venue="amm"``); every episode
restores the snapshot reseeded with its seed, exactly as :class:`TradingEnv` does.
The learner starts with ``collateral`` quote units of value, ``base_fraction`` of
it in the base asset (at the pool price when it was funded, before the warm-up).
Names: *base* is the asset priced (WETH), *quote* the numeraire (USDC); prices are
quote per base. The learner acts only through ``sim.amm`` (swap, mint_position,
burn_position, positions, pool_view).

Each env step: the action is sent (immediate execution: it executes now, against
the pool as the previous step left it), then ``steps_per_action`` scenario steps
run (the reference moves, the arbitrageur trades the pool to it, noise swappers
swap), then the observation and reward are read.

**Mark price** ``P_t`` (``mark``): ``"reference"`` (default: the scenario's
reference feed, the price the pool is arbitraged to; a learner profits by trading
the pool towards it) or ``"pool"`` (the pool's marginal price).

**Portfolio value** ``V_t`` (quote units) = wallet quote + wallet base x ``P_t`` +
the open position's amounts (what burning it would return now) and owed fees at
``P_t``, + with a fee market (``ordering="priority"``) the native asset (``ETH``)
at ``native_price`` (default ``P_t``: ETH and WETH are 1:1), so gas paid lowers
``V``.

Modes:

``mode="swapper"``
    action ``Box([-1], [1])``: a fraction ``a`` of ``max_swap`` (quote units);
    ``a > 0`` buys base paying ``a * max_swap`` quote, ``a < 0`` sells
    ``|a| * max_swap / pool price`` base (both capped at the wallet); ``|a| <
    1e-6`` does nothing. With ``swap_levels = n > 0`` the action is
    ``Discrete(2n + 1)``, ``k`` meaning ``a = (k - n) / n``. Reward ``pnl``:
    ``reward_scale * (V_t - V_{t-1})`` (gas included).
``mode="lp"``
    action ``MultiDiscrete([1 + len(widths_bps), len(sizes)])``: ``[0, _]`` holds;
    ``[w, s]`` (``w >= 1``) burns the open position (collecting its fees) and, when
    ``sizes[s] > 0``, mints a new one on ``[P e^{-h}, P e^{+h}]`` around the pool
    price ``P`` with half-width ``h = widths_bps[w - 1] / 1e4`` (rounded to the
    pool's tick spacing: lower tick down, upper tick up) worth ``sizes[s]`` of the
    learner's holdings: with ``zap`` (default) it first swaps the token in excess to
    the range's ratio at the pool price (paying the pool's fee), else it offers
    ``sizes[s]`` of each token as held (the mint takes the largest liquidity they
    buy; the rest stays in the wallet). ``sizes[s] == 0`` just withdraws.
    Why ``MultiDiscrete`` and not a ``Box``: ticks are discrete, a re-mint costs
    fees and gas so "hold" must be an exact, common choice (a continuous policy
    would need a dead band), and a few widths x sizes keep exploration small.

    Rewards (``reward``): ``"fees"``: fees earned this step,
    ``(F_q,t - F_q,t-1) + (F_b,t - F_b,t-1) P_t`` with ``F`` the cumulative fee
    tokens (collected + owed now, from ``sim.amm.positions``); ``"fees_minus_il"``
    (default): fees minus the change of impermanent loss, ``IL_t = (q_0 + b_0 P_t)
    - (V_t - native - F_q,t - F_b,t P_t)`` (holding the episode's initial token
    inventory ``(q_0, b_0)`` versus what the learner holds, its fees left out;
    e.g. Milionis et al. 2022 compare LPs with this "HODL" benchmark); ``"pnl"``:
    ``V_t - V_{t-1}``. LP mode needs immediate execution or a FIFO mempool (the
    burn and the re-mint read each other's results).

**Observation** (``float32``, clipped to the declared ``Box``; names in
:attr:`AmmEnv.observation_names`): ``pool_vs_ref_bps`` (``1e4 ln(pool /
reference)``), ``ret_1..ret_N`` (``1e4 ln(P_t / P_{t-j})`` of the mark, ``N =
returns``), ``liquidity`` (active pool liquidity over its value at the episode's
start), ``quote``, ``base``, ``position`` (wallet quote, wallet base and position
values over ``collateral``), ``range_lo_bps``, ``range_hi_bps`` (``1e4 ln(bound /
pool price)`` of the position's base-price range, 0 without one), ``in_range``
(1.0/0.0), ``fees`` (owed fees' value over ``collateral``, in bps), ``time_left``.

``info``: ``value``, ``pnl`` (since the episode's start), ``fees`` (cumulative,
quote units), ``il``, ``range`` (``(lo, hi)`` base prices or ``None``),
``in_range``, ``pool_price``, ``mark_price``, ``gas`` (native spent this episode),
``sent``, ``rejected``, ``step``.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .session import EnvSetupError, ScenarioSession

_BPS_BOUND = 1e5
_RATIO_BOUND = 1e4


class AmmEnvConfig(BaseModel):
    """Parameters of :class:`AmmEnv` (module docstring; money in quote units)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = "amm_pool"
    scenario_params: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the scenario's parameters."""
    pool: str | None = None
    """Pool traded (default: the scenario's first)."""
    learner: str = "learner"
    """Party name of the learning agent."""
    mode: Literal["swapper", "lp"] = "swapper"
    collateral: float = Field(100_000.0, gt=0, allow_inf_nan=False)
    """Value of the learner's start inventory (quote units)."""
    base_fraction: float = Field(0.5, ge=0, le=1)
    """Part of ``collateral`` given in the base asset (at the pool price)."""
    base_asset: str | None = None
    """The asset priced (default: the scenario's ``base_asset``, else the pool's token0)."""
    warmup_steps: int = Field(5, ge=0)
    episode_steps: int = Field(100, ge=1)
    steps_per_action: int = Field(1, ge=1)
    base_seed: int = Field(0, ge=0)
    check_invariants: bool = False
    mark: Literal["reference", "pool"] = "reference"
    """Price the portfolio is valued at (module docstring)."""
    returns: int = Field(3, ge=1, le=64)
    """Recent mark returns in the observation."""
    max_swap: float = Field(10_000.0, gt=0, allow_inf_nan=False)
    """Swapper: quote units of the largest swap (action 1 or -1)."""
    swap_levels: int = Field(0, ge=0, le=1000)
    """Swapper: 0 for a ``Box`` action, ``n`` for ``Discrete(2n + 1)``."""
    widths_bps: tuple[float, ...] = (50.0, 200.0, 1000.0)
    """LP: half-widths of the ranges offered (bps of the price, > 0)."""
    sizes: tuple[float, ...] = (0.0, 0.5, 1.0)
    """LP: fractions of the holdings' value put into a new position (in [0, 1])."""
    zap: bool = True
    """LP: before minting, swap the token in excess so the position takes ``size`` of
    the holdings' value (else offer ``size`` of each token as held)."""
    reward: Literal["pnl", "fees", "fees_minus_il"] | None = None
    """Default ``pnl`` (swapper), ``fees_minus_il`` (lp)."""
    reward_scale: float = Field(1.0, gt=0, allow_inf_nan=False)
    native_asset: str = "ETH"
    """The fee market's native asset (gas), counted only with ``ordering='priority'``."""
    native_price: float | None = Field(None, gt=0, allow_inf_nan=False)
    """Quote units per native unit (``None``: the mark price)."""

    @field_validator("widths_bps")
    @classmethod
    def _widths(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(not (math.isfinite(w) and 0 < w <= 50_000) for w in v):
            raise ValueError(f"widths_bps must be non-empty, each in (0, 50000], got {v}")
        return v

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(not (0 <= s <= 1) for s in v):
            raise ValueError(f"sizes must be non-empty, each in [0, 1], got {v}")
        return v

    @model_validator(mode="after")
    def _reward_fits_mode(self) -> AmmEnvConfig:
        if self.mode == "swapper" and self.reward not in (None, "pnl"):
            raise ValueError(f"reward {self.reward!r} needs mode='lp' (a swapper earns no fees)")
        return self

    @property
    def reward_kind(self) -> str:
        """``reward``, or the mode's default (``pnl`` / ``fees_minus_il``)."""
        if self.reward is not None:
            return self.reward
        return "pnl" if self.mode == "swapper" else "fees_minus_il"


def parse_amm_config(config: AmmEnvConfig | dict[str, Any] | None,
                     overrides: dict[str, Any]) -> AmmEnvConfig:
    """A validated config from a config, a dict and keyword overrides.

    Raises:
        EnvSetupError: unknown or badly typed parameters (one line naming them).
    """
    base = config.model_dump() if isinstance(config, AmmEnvConfig) else dict(config or {})
    base.update(overrides)
    try:
        return AmmEnvConfig(**base)
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}"
                         for e in exc.errors())
        raise EnvSetupError(f"bad AMM environment parameters: {errs}") from None


def _base_of(sim: Any, scenario: Any, pool: str, cfg_base: str | None) -> tuple[str, str]:
    assets = sim.amm.pool_view(pool).assets
    if len(assets) != 2:
        raise EnvSetupError(f"pool {pool} has {len(assets)} assets; AmmEnv needs a pair")
    base = cfg_base or getattr(scenario, "base_asset", None) or assets[0]
    if base not in assets:
        raise EnvSetupError(f"base_asset {base!r} is not in pool {pool} {assets}")
    return base, assets[1] if base == assets[0] else assets[0]


class _Funder:
    """Funds a learner: ``collateral`` quote units of value, ``base_fraction`` of it in
    the base asset at the pool's price (picklable: no closure)."""

    def __init__(self, base_asset: str | None, base_fraction: float) -> None:
        self.base_asset = base_asset
        self.base_fraction = base_fraction
        self.scenario: Any = None

    def __call__(self, sim: Any, pool: str, party: str, collateral: float) -> None:
        base, quote = _base_of(sim, self.scenario, pool, self.base_asset)
        price = sim.amm.pool_view(pool).price_of(base)
        if not price > 0:
            raise ValueError(f"pool {pool} has no price to fund the learner at")
        if self.base_fraction < 1:
            sim.mint(party, quote, collateral * (1 - self.base_fraction))
        if self.base_fraction > 0:
            sim.mint(party, base, collateral * self.base_fraction / price)


_SESSIONS: dict[str, ScenarioSession] = {}


def amm_session(cfg: AmmEnvConfig) -> ScenarioSession:
    """The warmed-up :class:`ScenarioSession` of ``cfg`` (built once per process)."""
    key = repr((cfg.scenario, sorted(cfg.scenario_params.items()), cfg.pool, cfg.learner,
                cfg.collateral, cfg.base_fraction, cfg.base_asset, cfg.warmup_steps,
                cfg.episode_steps * cfg.steps_per_action, cfg.base_seed, cfg.check_invariants))
    s = _SESSIONS.get(key)
    if s is None:
        funder = _Funder(cfg.base_asset, cfg.base_fraction)
        from defisim.scenarios import get_scenario

        try:
            funder.scenario = get_scenario(cfg.scenario)
        except KeyError as exc:
            raise EnvSetupError(str(exc).strip("'\"")) from None
        s = _SESSIONS[key] = ScenarioSession(
            cfg.scenario, cfg.scenario_params, {cfg.learner: cfg.collateral}, cfg.pool,
            cfg.warmup_steps, cfg.episode_steps * cfg.steps_per_action, cfg.base_seed,
            cfg.check_invariants, venue="amm", fund=funder)
    return s


class AmmEnv(gym.Env):
    """A learning swapper or LP on an AMM pool (module docstring).

    Args:
        config: an :class:`AmmEnvConfig` or a dict of its fields.
        render_mode: ``None`` or ``"ansi"``.
        **overrides: config fields, e.g. ``AmmEnv(mode="lp", episode_steps=50)``.

    Raises:
        EnvSetupError: bad parameters, an unknown scenario or pool, a scenario without
            a reference feed under ``mark="reference"``, LP mode on a non-V3 pool or
            with a non-FIFO mempool.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, config: AmmEnvConfig | dict[str, Any] | None = None,
                 render_mode: str | None = None, **overrides: Any) -> None:
        super().__init__()
        cfg = parse_amm_config(config, overrides)
        self.config = cfg
        self.session = amm_session(cfg)
        self.pool_id = self.session.market
        state = self.session.restore(cfg.base_seed)
        sim, scn = state.sim, state.scenario
        self.base, self.quote = _base_of(sim, scn, self.pool_id, cfg.base_asset)
        view = sim.amm.pool_view(self.pool_id)
        if cfg.mark == "reference" and getattr(scn, "feed", None) is None:
            raise EnvSetupError(f"scenario {cfg.scenario} has no reference price feed (a 'feed' "
                                f"attribute); use mark='pool'")
        p = scn.params
        self._gas = getattr(p, "ordering", "fifo") == "priority"
        if cfg.mode == "lp":
            if view.kind != "V3":
                raise EnvSetupError(f"mode='lp' needs a V3 pool; {self.pool_id} is {view.kind}")
            if getattr(p, "execution", "immediate") == "mempool" and p.ordering != "fifo":
                raise EnvSetupError("mode='lp' needs execution='immediate' or a FIFO mempool "
                                    f"(got ordering={p.ordering!r}): the burn and the re-mint "
                                    "read each other's results")
        n = cfg.returns
        self.observation_names = (["pool_vs_ref_bps"] + [f"ret_{j}" for j in range(1, n + 1)]
                                  + ["liquidity", "quote", "base", "position", "range_lo_bps",
                                     "range_hi_bps", "in_range", "fees", "time_left"])
        hi = np.array([_BPS_BOUND] * (1 + n) + [_RATIO_BOUND] * 4 + [_BPS_BOUND] * 2
                      + [1.0, _BPS_BOUND, 1.0], dtype=np.float32)
        lo = np.array([-_BPS_BOUND] * (1 + n) + [0.0] * 4 + [-_BPS_BOUND] * 2
                      + [0.0, 0.0, 0.0], dtype=np.float32)
        self.observation_space = spaces.Box(lo, hi, dtype=np.float32)
        if cfg.mode == "swapper":
            self.action_space = (spaces.Box(-1.0, 1.0, (1,), np.float32) if cfg.swap_levels == 0
                                 else spaces.Discrete(2 * cfg.swap_levels + 1))
        else:
            self.action_space = spaces.MultiDiscrete([1 + len(cfg.widths_bps), len(cfg.sizes)])
        self.render_mode = render_mode
        self.state = None
        self._seed_rng = np.random.default_rng(cfg.base_seed)
        self._done = False

    # -- readings -------------------------------------------------------------------
    def _sim(self):
        return self.state.sim

    def pool_price(self) -> float:
        """The pool's marginal price of the base asset (quote per base)."""
        return self._sim().amm.pool_view(self.pool_id).price_of(self.base)

    def mark_price(self) -> float:
        """The mark price ``P_t`` (module docstring)."""
        if self.config.mark == "reference":
            return float(self.state.scenario.feed.price)
        return self.pool_price()

    def _split(self, a0: float, a1: float) -> tuple[float, float]:
        """(quote, base) from token0/token1 amounts."""
        return (a1, a0) if self._assets[0] == self.base else (a0, a1)

    def position(self):
        """The learner's open :class:`~defisim.service.amm.PositionView` (or ``None``)."""
        if self._range is None:
            return None
        return self._sim().amm.position(self.config.learner, self.pool_id, *self._range)

    def _holdings(self) -> dict[str, float]:
        """Token amounts: wallet, position (burn value), owed fees, native."""
        sim, party = self._sim(), self.config.learner
        out = {"wq": sim.balance(party, self.quote), "wb": sim.balance(party, self.base),
               "pq": 0.0, "pb": 0.0, "fq": 0.0, "fb": 0.0, "native": 0.0}
        pos = self.position()
        if pos is not None:
            out["pq"], out["pb"] = self._split(pos.amount0, pos.amount1)
            out["fq"], out["fb"] = self._split(pos.fees0, pos.fees1)
        if self._gas:
            out["native"] = sim.balance(party, self.config.native_asset)
        return out

    def _value(self, h: dict[str, float], p: float) -> float:
        native_p = self.config.native_price or p
        return (h["wq"] + h["pq"] + h["fq"] + (h["wb"] + h["pb"] + h["fb"]) * p
                + h["native"] * native_p)

    def _fee_tokens(self, h: dict[str, float]) -> tuple[float, float]:
        return self._collected[0] + h["fq"], self._collected[1] + h["fb"]

    def _il(self, h: dict[str, float], p: float) -> float:
        fq, fb = self._fee_tokens(h)
        held = (h["wq"] + h["pq"] + h["fq"] - fq) + (h["wb"] + h["pb"] + h["fb"] - fb) * p
        return (self._q0 + self._b0 * p) - held

    # -- episode --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Restore the warmed-up snapshot reseeded with ``seed`` (as :class:`TradingEnv`).

        Returns:
            ``(observation, info)``.
        """
        super().reset(seed=seed)
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
            episode_seed = int(seed)
        else:
            episode_seed = int(self._seed_rng.integers(0, 2**63 - 1))
        self.state = self.session.restore(episode_seed)
        view = self._sim().amm.pool_view(self.pool_id)
        self._assets = view.assets
        self._liq0 = float(view.liquidity or 0) or 1.0
        self._range: tuple[int, int] | None = None
        self._collected = (0.0, 0.0)
        self._step = 0
        self._done = False
        self._counts = {"sent": 0, "rejected": 0}
        h = self._holdings()
        p = self.mark_price()
        self._q0, self._b0 = h["wq"], h["wb"]
        self._native0 = h["native"]
        self._v0 = self._last_v = self._value(h, p)
        self._last_fee_value = 0.0
        self._fee_value = 0.0
        self._last_il = self._il(h, p)
        self._last_fee_tokens = (0.0, 0.0)
        self._marks = deque([p], maxlen=self.config.returns + 1)
        info = self._info(h, p)
        info["seed"] = episode_seed
        return self._observe(h, p), info

    def step(self, action):
        """Apply ``action``, run ``steps_per_action`` scenario steps, observe.

        Returns:
            ``(observation, reward, terminated, truncated, info)``; ``terminated`` at
            the episode's last step, ``truncated`` never.

        Raises:
            RuntimeError: ``step`` before ``reset`` or after the episode ended.
            ValueError: an action outside the action space.
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode has ended (terminated); call reset()")
        if not self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)
                                          if not isinstance(self.action_space, spaces.Discrete)
                                          else action):
            raise ValueError(f"action {action!r} is outside the action space {self.action_space}")
        self._counts = {"sent": 0, "rejected": 0}
        if self.config.mode == "swapper":
            self._swap(action)
        else:
            self._lp(action)
        self.state.advance(self.config.steps_per_action, self.session.step_ns)
        self._step += 1
        h = self._holdings()
        p = self.mark_price()
        self._marks.append(p)
        v = self._value(h, p)
        fq, fb = self._fee_tokens(h)
        lq, lb = self._last_fee_tokens
        fee_step = (fq - lq) + (fb - lb) * p
        self._last_fee_tokens = (fq, fb)
        self._fee_value += fee_step
        il = self._il(h, p)
        kind = self.config.reward_kind
        if kind == "pnl":
            r = v - self._last_v
        elif kind == "fees":
            r = fee_step
        else:
            r = fee_step - (il - self._last_il)
        self._last_v, self._last_il = v, il
        self._done = self._step >= self.config.episode_steps
        return (self._observe(h, p), float(self.config.reward_scale * r), self._done, False,
                self._info(h, p))

    # -- actions --------------------------------------------------------------------
    def _count(self, receipt: Any) -> Any:
        self._counts["sent"] += 1
        if not receipt.accepted:
            self._counts["rejected"] += 1
        return receipt

    def _swap(self, action) -> None:
        cfg = self.config
        if cfg.swap_levels:
            a = (int(action) - cfg.swap_levels) / cfg.swap_levels
        else:
            a = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        if abs(a) < 1e-6:
            return
        sim, party = self._sim(), cfg.learner
        if a > 0:
            asset_in, amount = self.quote, min(a * cfg.max_swap, sim.balance(party, self.quote))
        else:
            amount = min(-a * cfg.max_swap / self.pool_price(), sim.balance(party, self.base))
            asset_in = self.base
        if amount > 0:
            self._count(sim.amm.swap(party, self.pool_id, asset_in, amount))

    def _lp(self, action) -> None:
        cfg = self.config
        w, s = (int(x) for x in np.asarray(action).reshape(-1))
        if w == 0:
            return
        sim, party, pid = self._sim(), cfg.learner, self.pool_id
        pos = self.position()
        totals = [sim.balance(party, a) for a in self._assets]  # token order
        if pos is not None:
            totals = [totals[0] + pos.amount0 + pos.fees0, totals[1] + pos.amount1 + pos.fees1]
            fq, fb = self._split(pos.fees0, pos.fees1)
            r = self._count(sim.amm.burn_position(party, pid, *self._range, collect=True))
            if not r.accepted:
                return
            self._collected = (self._collected[0] + fq, self._collected[1] + fb)
            self._range = None
        size = cfg.sizes[s]
        if size <= 0:
            return
        half = cfg.widths_bps[w - 1] / 1e4
        view = sim.amm.pool_view(pid)
        p0 = view.price  # token0 in token1
        lo = sim.amm.price_to_tick(pid, p0 * math.exp(-half))
        up = sim.amm.price_to_tick(pid, p0 * math.exp(half))
        if sim.amm.tick_to_price(pid, up) < p0 * math.exp(half) or up <= lo:
            up += view.tick_spacing  # round the upper tick up
        q, b = self._split(*totals)
        if cfg.zap:
            q, b = self._zap(self._ticks_to_base((lo, up)), size, q, b)
        amounts = (b, q) if self._assets[0] == self.base else (q, b)
        if sim.execution == "immediate":  # cap at what the burn and the swap paid out
            amounts = [min(x, sim.balance(party, a)) for x, a in zip(amounts, self._assets,
                                                                       strict=True)]
        r = self._count(sim.amm.mint_position(party, pid, lo, up, *amounts))
        if r.accepted:
            self._range = (lo, up)

    def _zap(self, rng: tuple[float, float], size: float, q: float, b: float) -> tuple[float, float]:
        """Swap so that ``size`` of the holdings ``(q, b)`` (quote, base) fits the range
        ``rng`` (base prices) at the pool price; returns the (quote, base) amounts to
        offer. The base share of a V3 position's value at price ``P`` in ``[p_a, p_b]``
        is ``x P / (x P + y)`` with ``x = 1/sqrt(P) - 1/sqrt(p_b)``, ``y = sqrt(P) -
        sqrt(p_a)`` per unit of liquidity (Uniswap v3 whitepaper, eq. 6.29-6.30)."""
        sim, party, pid = self._sim(), self.config.learner, self.pool_id
        p = self.pool_price()
        sa, sb = math.sqrt(rng[0]), math.sqrt(rng[1])
        sp = min(max(math.sqrt(p), sa), sb)
        x, y = 1 / sp - 1 / sb, sp - sa
        f = x * p / (x * p + y) if x * p + y > 0 else 0.5
        worth = size * (q + b * p)
        need_b, need_q = f * worth / p, (1 - f) * worth
        try:
            if b < need_b and q > 0:
                pay = min((need_b - b) * p, q)
                got = sim.amm.quote(pid, self.quote, pay)
                if self._count(sim.amm.swap(party, pid, self.quote, pay)).accepted:
                    q, b = q - pay, b + got
            elif q < need_q and b > 0:
                pay = min((need_q - q) / p, b)
                got = sim.amm.quote(pid, self.base, pay)
                if self._count(sim.amm.swap(party, pid, self.base, pay)).accepted:
                    q, b = q + got, b - pay
        except ValueError:  # nothing to quote (a dust amount): offer what is held
            pass
        return min(need_q, q), min(need_b, b)

    # -- observation and info -------------------------------------------------------
    def base_range(self) -> tuple[float, float] | None:
        """The open position's range in base prices (quote per base), or ``None``."""
        return None if self._range is None else self._ticks_to_base(self._range)

    def _ticks_to_base(self, ticks: tuple[int, int]) -> tuple[float, float]:
        amm = self._sim().amm
        a, b = (amm.tick_to_price(self.pool_id, t) for t in ticks)
        return (a, b) if self._assets[0] == self.base else (1 / b, 1 / a)

    def _in_range(self) -> bool:
        if self._range is None:
            return False
        tick = self._sim().amm.pool_view(self.pool_id).tick
        return self._range[0] <= tick < self._range[1]

    def _observe(self, h: dict[str, float], p: float) -> np.ndarray:
        cfg = self.config
        sim = self._sim()
        view = sim.amm.pool_view(self.pool_id)
        pool = view.price_of(self.base)
        ref = float(self.state.scenario.feed.price) if cfg.mark == "reference" else pool
        marks = list(self._marks)
        rets = [1e4 * math.log(marks[-1] / marks[-1 - j]) if j < len(marks) else 0.0
                for j in range(1, cfg.returns + 1)]
        c = cfg.collateral
        rng = self.base_range()
        lo_bps, hi_bps = ((1e4 * math.log(rng[0] / pool), 1e4 * math.log(rng[1] / pool))
                          if rng is not None else (0.0, 0.0))
        vals = ([1e4 * math.log(pool / ref)] + rets
                + [float(view.liquidity or 0) / self._liq0, h["wq"] / c, h["wb"] * p / c,
                   (h["pq"] + h["pb"] * p) / c, lo_bps, hi_bps, float(self._in_range()),
                   1e4 * (h["fq"] + h["fb"] * p) / c,
                   (cfg.episode_steps - self._step) / cfg.episode_steps])
        obs = np.nan_to_num(np.asarray(vals, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        sp = self.observation_space
        return np.clip(obs, sp.low, sp.high).astype(np.float32)

    def _info(self, h: dict[str, float], p: float) -> dict[str, Any]:
        v = self._value(h, p)
        return {"value": v, "pnl": v - self._v0, "fees": self._fee_value, "il": self._il(h, p),
                "range": self.base_range(), "in_range": self._in_range(),
                "pool_price": self.pool_price(), "mark_price": p,
                "gas": self._native0 - h["native"], "sent": self._counts["sent"],
                "rejected": self._counts["rejected"], "step": self._step}

    def render(self):
        if self.render_mode == "ansi" and self.state is not None:
            h = self._holdings()
            i = self._info(h, self.mark_price())
            return (f"step {self._step}/{self.config.episode_steps} pool {i['pool_price']:.2f} "
                    f"mark {i['mark_price']:.2f} pnl {i['pnl']:.2f} fees {i['fees']:.2f} "
                    f"range {i['range']} in_range {i['in_range']}")
        return None
