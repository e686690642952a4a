"""Negotiation policies of the compute marketplace (spec section 5) against the spec's
worked examples, and the negotiations of vector 9(a) a1-a7 through the two-party
driver :func:`defisim.agents.compute.negotiate`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from defisim.agents.compute import (
    POLICIES,
    Accept,
    Bounds,
    Counter,
    Noop,
    PolicyContext,
    PolicyMemory,
    Terminate,
    client_bounds,
    make_policy,
    negotiate,
    provider_cost_floor,
    round_price,
)
from defisim.protocols.compute.types import Job, Machine


def ctx(role, t=0.0, amount=None, memory=None, seed=0, **kw) -> PolicyContext:
    return PolicyContext(role=role, t=t, memory=memory if memory is not None else
                         PolicyMemory(), rng=np.random.default_rng(seed),
                         received_amount=amount, **kw)


def usdc(x: float) -> int:
    """A price written in the spec with 6 decimals, as base units."""
    return round(x * 10**6)


def run(client, provider, seed=0, **kw):
    return negotiate(client, provider, client_rng=np.random.default_rng(seed),
                     provider_rng=np.random.default_rng(seed + 1), **kw)


def prices(outcome) -> list[tuple[float, str, int]]:
    return [(m.t, m.sender[0].upper(), m.amount) for m in outcome.messages]


def expected(spec: str) -> list[tuple[float, str, int]]:
    """``"0 C 200; 1 P 466.666667"`` as ``[(0, "C", 200000000), ...]``."""
    out = []
    for part in spec.split(";"):
        t, who, x = part.split()
        out.append((float(t), who, usdc(float(x))))
    return out


# ------------------------------------------------------------------------------ rounding


def test_rounding_is_in_the_senders_favour():
    assert round_price(466.6666666666667, "provider") == 466_666_667
    assert round_price(466.6666666666667, "client") == 466_666_666
    assert round_price(415.05376344086, "client") == 415_053_763
    # float noise just off an integer is absorbed (the 1e-9 of spec 5)
    assert round_price(0.1 + 0.2, "client", 1) == 3
    assert round_price(0.1 + 0.2, "provider", 1) == 3
    assert round_price(443.8, "provider") == 443_800_000
    assert round_price(150.0, "client", 0) == 150
    # above ~1e7 base units a float's spacing exceeds 1e-9: the literal formula would
    # floor 17102.888956 USDC to 17102888955 base units
    assert round_price(17102.888956, "client") == 17_102_888_956
    assert round_price(17102.888956, "provider") == 17_102_888_956


@given(st.integers(1, 10**12))
def test_rounding_a_received_amount_gives_it_back(amount):
    x = amount / 10**6
    assert round_price(x, "client") == amount
    assert round_price(x, "provider") == amount


def test_rounding_rejects_bad_input():
    with pytest.raises(ValueError, match="role"):
        round_price(1.0, "mediator")
    with pytest.raises(ValueError, match="finite"):
        round_price(float("nan"), "client")


# -------------------------------------------------------------------------------- kalman


def test_kalman_worked_steps():
    """Spec 5's Kalman table, to 6 digits."""
    prov, cli = make_policy("kalman", "provider"), make_policy("kalman", "client")
    pm, cm = PolicyMemory(), PolicyMemory()
    assert cli.open(None, ctx("client", memory=cm)) == 200
    d = prov.respond(None, ctx("provider", 1, usdc(200), pm))
    assert pm.x_hat == pytest.approx(466.666667, abs=1e-6)
    assert pm.p == pytest.approx(6.666667, abs=1e-6)
    assert d == Counter(pm.x_hat, 466_666_667)
    d = cli.respond(None, ctx("client", 2, d.amount, cm))
    assert 50 / 62 == pytest.approx(0.806452, abs=1e-6)
    assert cm.x_hat == pytest.approx(415.053764, abs=1e-6)
    assert cm.p == pytest.approx(9.677419, abs=1e-6)
    assert d.amount == 415_053_763
    before_p = pm.p
    d = prov.respond(None, ctx("provider", 3, d.amount, pm))
    assert before_p / (before_p + 10) == pytest.approx(0.4, abs=1e-12)
    assert pm.x_hat == pytest.approx(446.021505, abs=1e-6)
    assert pm.p == pytest.approx(4.0, abs=1e-12)
    assert d.amount == 446_021_506


def test_kalman_client_at_round_8_accepts_with_the_old_belief():
    cm = PolicyMemory(x_hat=435.731489, p=1.0)
    d = make_policy("kalman", "client").respond(None, ctx("client", 16, usdc(437.291450), cm))
    assert d == Accept()
    assert cm.x_hat == 435.731489  # no update on acceptance


def test_kalman_provider_accepts_at_or_above_its_belief():
    pm = PolicyMemory(x_hat=400.0, p=5.0)
    assert make_policy("kalman", "provider").respond(
        None, ctx("provider", 1, usdc(400), pm)) == Accept()


# ------------------------------------------------------------------------ time-dependent


TIME_TABLE = [  # (policy, role, t, alpha, x) of spec 5's worked values
    ("time_poly", "client", 0, 0.3, 165.7),
    ("time_poly", "client", 2, 0.600068, 330.437107),
    ("time_poly", "client", 10, 1.0, 550.0),
    ("time_poly", "provider", 0, 0.5, 425.0),
    ("time_poly", "provider", 1, 0.790014, 207.489434),
    ("time_poly", "provider", 3, 0.854135, 159.399017),
    ("time_poly", "provider", 5, 0.888602, 133.548822),
    ("time_poly", "provider", 10, 0.940796, 94.403279),
    ("time_exp", "provider", 0, 0.5, 425.0),
    ("time_exp", "provider", 1, 0.531574, 401.319611),
    ("time_exp", "provider", 3, 0.609295, 343.028963),
    ("time_exp", "provider", 5, 0.721172, 259.120779),
    ("time_exp", "provider", 7, 1.0, 50.0),
    ("time_exp", "client", 0, 0.3, 165.7),
    ("time_exp", "client", 2, 0.312501, 172.562942),
    ("time_exp", "client", 4, 0.326007, 179.977618),
    ("time_exp", "client", 6, 0.340661, 188.023154),
]


@pytest.mark.parametrize(("name", "role", "t", "alpha", "x"), TIME_TABLE)
def test_time_dependent_worked_values(name, role, t, alpha, x):
    policy = make_policy(name, role)
    assert policy.alpha(t) == pytest.approx(alpha, abs=5e-7)
    assert policy.target(t, ctx(role)) == pytest.approx(x, abs=5e-7)


def test_time_accept_checks_and_counters():
    cli = make_policy("time_poly", "client")
    # at t = 2 the target is 330.437107: accept up to target + tol 3, else counter it
    assert cli.respond(None, ctx("client", 2, usdc(333.437106))) == Accept()
    d = cli.respond(None, ctx("client", 2, usdc(333.437108)))
    assert isinstance(d, Counter) and d.amount == 330_437_106
    prov = make_policy("time_exp", "provider")
    assert prov.respond(None, ctx("provider", 3, usdc(343.028963))) == Accept()
    d = prov.respond(None, ctx("provider", 3, usdc(343.028962)))
    assert isinstance(d, Counter) and d.amount == 343_028_963
    assert cli.open(None, ctx("client")) == pytest.approx(165.7)


def test_time_after_deadline_terminates_or_stays_silent():
    prov = make_policy("time_exp", "provider")
    assert prov.respond(None, ctx("provider", 7, usdc(100))) == Accept()  # t = t_max
    assert prov.respond(None, ctx("provider", 8, usdc(100))) == Terminate("deadline")
    quiet = make_policy("time_exp", "provider", after_deadline="noop")
    assert quiet.respond(None, ctx("provider", 8, usdc(100))) == Noop()


def test_time_bounds_follow_the_economic_binding():
    """A client's x_max bound to V (spec 5), fixed in memory at the first call."""
    job = Job("j", "c", "cpu-small", 2, 0, 4, 600, 2, 2000.0, value=300.0)
    mem = PolicyMemory()
    cli = make_policy("time_poly", "client")
    assert cli.target(10, ctx("client", memory=mem, bounds=client_bounds(job))) == 300.0
    assert mem.bounds == (1.0, 300.0)
    assert cli.target(10, ctx("client", memory=mem)) == 300.0  # fixed for the topic


def test_provider_cost_floor():
    job = Job("j", "c", "gpu-infer", 4, 1, 16, 900, 10, 3000.0, value=9.0)
    machine = Machine("m", 8, 1, 32, "eu-central", speed=1.5)
    floor = provider_cost_floor(job, machine, electricity_usd_per_kwh=0.2,
                                gas_units=100_000, base_fee_wei=10**10, eth_usd=3000.0)
    run_h = 600 / 3600  # ceil(900 / 1.5) s
    energy = (4 * 10 + 300) / 1000 * run_h * 0.2
    amort = (4 * 0.02 + 1.0) * run_h
    assert floor == pytest.approx(energy + amort + 3.0)
    with pytest.raises(ValueError, match="eth_usd"):
        provider_cost_floor(job, machine, electricity_usd_per_kwh=0.2, gas_units=1,
                            base_fee_wei=1, eth_usd=-1.0)


# ------------------------------------------------------------------------- tit-for-tat


def test_tit_for_tat_relative_client_example():
    cli = make_policy("tit_for_tat", "client", type="relative", delta=1, tol=1.0)
    mem = PolicyMemory()
    assert cli.open(None, ctx("client", memory=mem)) == 100
    assert cli.respond(None, ctx("client", 2, usdc(401.319612), mem)).amount == 100_000_000
    d = cli.respond(None, ctx("client", 4, usdc(343.028963), mem))
    assert 401.319612 / 343.028963 == pytest.approx(1.169929, abs=5e-7)
    assert mem.x_prev == pytest.approx(116.992923, abs=5e-7)
    assert d.amount == 116_992_923


def test_tit_for_tat_averaged_provider_example():
    prov = make_policy("tit_for_tat", "provider")  # Apiary: averaged, [50, 800], δ 2
    mem = PolicyMemory()
    assert prov.respond(None, ctx("provider", 1, usdc(165.7), mem)).amount == 800_000_000
    d = prov.respond(None, ctx("provider", 3, usdc(330.437106), mem))
    assert 165.7 / 330.437106 == pytest.approx(0.501457, abs=5e-7)
    assert mem.x_prev == pytest.approx(401.1656003, abs=1e-7)
    assert d.amount == 401_165_601  # "asks 401.165601": rounded up


def test_tit_for_tat_averaged_provider_against_poly_client():
    out = run(make_policy("time_poly", "client"), make_policy("tit_for_tat", "provider"))
    assert prices(out) == expected("0 C 165.7; 1 P 800; 2 C 330.437106; 3 P 401.165601")
    assert (out.status, out.closed_at, out.amount) == ("agreed", 4.0, 401_165_601)


def test_tit_for_tat_relative_against_averaged_deadlocks():
    out = run(make_policy("tit_for_tat", "client", type="relative"),
              make_policy("tit_for_tat", "provider"))
    assert {(w, a) for _, w, a in prices(out)} == {("C", 100_000_000), ("P", 800_000_000)}
    assert (out.status, out.reason, out.closed_at) == ("closed", "max_rounds", 100.0)


def test_tit_for_tat_random_absolute():
    """x = x_prev + (y_{n-d} - y_{n-d+1}) + s M ε², ε from the agent's stream."""
    ys = [300.0, 280.0, 270.0]
    eps = np.random.default_rng(5).standard_normal()
    for sign, s in (("apiary", 1.0), ("role", -1.0)):
        prov = make_policy("tit_for_tat", "provider", type="random_absolute", m=2.0,
                           delta=1, sign=sign)
        mem = PolicyMemory(received=ys[:-1], x_prev=700.0)
        prov.respond(None, ctx("provider", 5, usdc(ys[-1]), mem, seed=5))
        assert mem.x_prev == pytest.approx(700.0 + (280.0 - 270.0) + s * 2.0 * eps**2)
    cli = make_policy("tit_for_tat", "client", sign="role")  # the client's s is +1
    mem = PolicyMemory(received=ys[:-1], x_prev=200.0)
    cli.respond(None, ctx("client", 5, usdc(ys[-1]), mem, seed=5))
    # d = min(2, 10) = 2: y_1 - y_2 = 20
    assert mem.x_prev == pytest.approx(200.0 + 20.0 + 30.0 * eps**2)


def test_tit_for_tat_clips_to_its_bounds():
    prov = make_policy("tit_for_tat", "provider", type="relative", delta=1)
    mem = PolicyMemory(received=[10.0], x_prev=60.0)
    d = prov.respond(None, ctx("provider", 3, usdc(100.0), mem))  # 0.1 * 60 = 6 -> 50
    assert mem.x_prev == 50.0 and d == Accept()  # and 100 >= 50


# ------------------------------------------------------------------- simple policies


def test_naive_accepter_client_accepts_kalman_provider_offer():
    out = run(make_policy("naive_accepter", "client", open_price=200),
              make_policy("kalman", "provider"))
    assert prices(out) == expected("0 C 200; 1 P 466.666667")
    assert (out.status, out.closed_at, out.amount) == ("agreed", 2.0, 466_666_667)


def test_naive_rejecter_provider_closes_the_topic():
    out = run(make_policy("kalman", "client"), make_policy("naive_rejecter", "provider"))
    assert (out.status, out.reason, out.closed_by, out.closed_at) == (
        "closed", "rejected", "provider", 1.0)
    assert len(out.messages) == 1 and out.amount is None


def test_identity_provider_accepts_and_client_echoes():
    assert make_policy("identity", "provider").respond(
        None, ctx("provider", 1, 123)) == Accept()
    assert make_policy("identity", "client", open_price=1).respond(
        None, ctx("client", 2, 123_456_789)) == Counter(123.456789, 123_456_789)


def test_random_properties():
    pol = make_policy("random", "provider")
    draws = []
    mem = PolicyMemory()
    rng = np.random.default_rng(7)
    for i in range(20_000):
        d = pol.respond(None, PolicyContext("provider", i, mem, rng, received_amount=10**8))
        assert isinstance(d, Counter)  # never accepts
        assert d.amount % 10**6 == 0
        draws.append(d.price)
    draws = np.array(draws)
    assert draws.min() == 10 and draws.max() == 1000  # inclusive range, both reached
    # mean 505, standard error 286/sqrt(20000) ~ 2
    assert abs(draws.mean() - 505) < 8


def test_random_is_seeded():
    def seq(seed):
        out = run(make_policy("random", "client"), make_policy("random", "provider"),
                  seed=seed, max_offers=20)
        return prices(out)
    assert seq(3) == seq(3)
    assert seq(3) != seq(4)
    assert all(10 * 10**6 <= a <= 1000 * 10**6 for _, _, a in seq(3))


def test_threshold_legacy():
    job = Job("j", "c", "cpu-small", 2, 0, 4, 600, 2, 2000.0, value=100.0)
    cli = make_policy("threshold", "client", u_ref=50.0, open_price=40)
    assert cli.respond(None, ctx("client", 2, usdc(47.5), job=job)) == Accept()  # u 52.5
    assert cli.respond(None, ctx("client", 2, usdc(52.6), job=job)) == Terminate()  # 47.4
    assert cli.respond(None, ctx("client", 2, usdc(50), job=job)) == Counter(50.0, 50 * 10**6)
    prov = make_policy("threshold", "provider", u_ref=100.0)
    assert prov.respond(None, ctx("provider", 1, usdc(94.9))) == Terminate("rejected")
    assert prov.respond(None, ctx("provider", 1, usdc(100))) == Accept()


def test_non_erc20_payment_terminates_with_error():
    for name in POLICIES:
        params = {"u_ref": 1.0} if name == "threshold" else {}
        assert make_policy(name, "provider", **params).respond(
            None, ctx("provider", 1)) == Terminate("error")


# ------------------------------------------------------------------------- registry


def test_registry_and_errors():
    assert set(POLICIES) == {"naive_accepter", "naive_rejecter", "identity", "random",
                             "kalman", "time_poly", "time_exp", "tit_for_tat",
                             "threshold"}
    with pytest.raises(ValueError, match="unknown policy 'greedy'.*kalman"):
        make_policy("greedy", "client")
    with pytest.raises(ValueError, match="role"):
        make_policy("kalman", "mediator")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['x_hat'\].*p0"):
        make_policy("kalman", "client", x_hat=3)
    with pytest.raises(ValueError, match="p0"):
        make_policy("kalman", "client", p0=0)
    with pytest.raises(ValueError, match="bad parameter"):
        make_policy("kalman", "client", p0="big")
    with pytest.raises(ValueError, match="open_price"):
        make_policy("identity", "client")
    with pytest.raises(ValueError, match="type"):
        make_policy("tit_for_tat", "client", type="greedy")
    with pytest.raises(ValueError, match="after_deadline"):
        make_policy("time_exp", "client", after_deadline="later")
    with pytest.raises(ValueError, match="x_min <= x_max"):
        make_policy("time_poly", "client", x_min=600)
    with pytest.raises(ValueError, match="only a client opens"):
        make_policy("kalman", "provider").open(None, ctx("provider"))
    with pytest.raises(ValueError, match="context role"):
        make_policy("kalman", "provider").respond(None, ctx("client", 1, 5))


def test_policies_are_stateless():
    """The same policy object on two topics: each topic's memory is its own."""
    prov = make_policy("kalman", "provider")
    m1, m2 = PolicyMemory(), PolicyMemory()
    a = prov.respond(None, ctx("provider", 1, usdc(200), m1))
    b = prov.respond(None, ctx("provider", 1, usdc(200), m2))
    assert a == b and m1 == m2
    with pytest.raises(AttributeError):
        prov.x0 = 5  # frozen


# ------------------------------------------------------------------ vector 9(a)


VECTOR_A = {
    "a1": (("kalman", {}), ("kalman", {}),
           "0 C 200; 1 P 466.666667; 2 C 415.053763; 3 P 446.021506; 4 C 428.878648; "
           "5 P 441.123546; 6 C 432.657937; 7 P 439.242300; 8 C 434.210853; "
           "9 P 438.327492; 10 C 434.996471; 11 P 437.815027; 12 C 435.448163; "
           "13 P 437.499445; 14 C 435.731489; 15 P 437.291450", 16.0, 437.291450),
    "a2": (("time_poly", {}), ("time_poly", {}), "0 C 165.7; 1 P 207.489434",
           2.0, 207.489434),
    "a3": (("time_exp", {}), ("time_exp", {}),
           "0 C 165.7; 1 P 401.319612; 2 C 172.562942; 3 P 343.028963; 4 C 179.977617; "
           "5 P 259.120779; 6 C 188.023154; 7 P 188.023154", 8.0, 188.023154),
    "a4": (("kalman", {}), ("time_exp", {}),
           "0 C 200; 1 P 401.319612; 2 C 362.354525; 3 P 362.354525", 4.0, 362.354525),
    "a5": (("time_poly", {}), ("kalman", {}),
           "0 C 165.7; 1 P 443.8; 2 C 330.437106; 3 P 398.454843", 4.0, 398.454843),
    "a6": (("tit_for_tat", {"type": "relative", "delta": 1, "tol": 1.0}), ("time_exp", {}),
           "0 C 100; 1 P 401.319612; 2 C 100; 3 P 343.028963; 4 C 116.992923; "
           "5 P 259.120779; 6 C 154.877433; 7 P 154.877433", 8.0, 154.877433),
}


@pytest.mark.parametrize("row", sorted(VECTOR_A))
def test_vector_9a(row):
    (cname, cparams), (pname, pparams), msgs, t_end, agreed = VECTOR_A[row]
    out = run(make_policy(cname, "client", **cparams), make_policy(pname, "provider",
                                                                   **pparams))
    assert prices(out) == expected(msgs)
    assert (out.status, out.closed_by, out.closed_at, out.amount) == (
        "agreed", "client", t_end, usdc(agreed))
    assert out.rejected == ()
    if row == "a1":
        assert (len(out.messages), out.rounds) == (16, 8)
    if row in ("a3", "a4", "a6"):
        assert out.messages[-1].echo  # the provider's acceptance is an echo offer


def test_vector_9a_a7_identity_never_agrees():
    out = run(make_policy("identity", "client", open_price=150),
              make_policy("identity", "provider"))
    assert len(out.messages) == 100
    assert [m.t for m in out.messages] == [float(i) for i in range(100)]
    assert all(m.amount == 150_000_000 for m in out.messages)
    assert [(r.t, r.sender, r.amount, r.reason) for r in out.rejected] == [
        (100.0, "client", 150_000_000, "max_rounds")]
    assert (out.status, out.reason, out.closed_by, out.closed_at, out.amount) == (
        "closed", "max_rounds", "scheme", 100.0, None)


def test_driver_timers():
    """Silence closes the topic after the reply timeout; a Faratin deadline terminates."""
    quiet = make_policy("time_exp", "provider", after_deadline="noop", t_max=2.0)
    out = run(make_policy("kalman", "client", tol=0.0), quiet)
    assert (out.status, out.reason, out.closed_by) == ("closed", "timeout", "scheme")
    assert out.closed_at == out.messages[-1].t + 30.0
    out = run(make_policy("kalman", "client", tol=0.0),
              make_policy("time_exp", "provider", t_max=2.0))
    assert (out.reason, out.closed_by, out.closed_at) == ("deadline", "provider", 3.0)
    slow = run(make_policy("identity", "client", open_price=150),
               make_policy("identity", "provider"), max_offers=1000)
    assert (slow.reason, slow.closed_at) == ("timeout", 301.0)


def test_bounds_hook_in_context():
    """A provider's x_min bound to its cost floor raises its target (spec 5)."""
    prov = make_policy("time_exp", "provider")
    mem = PolicyMemory()
    assert prov.target(7, ctx("provider", memory=mem, bounds=Bounds(x_min=120.0))) == 120.0
    assert mem.bounds == (120.0, 800.0)


@given(
    st.sampled_from(["time_poly", "time_exp"]), st.sampled_from(["time_poly", "time_exp"]),
    st.floats(0.2, 5.0), st.floats(0.2, 5.0), st.floats(0.0, 0.9), st.floats(0.0, 0.9),
    st.floats(5.0, 60.0), st.floats(5.0, 60.0),
)
def test_time_policies_concede_monotonically(cn, pn, cb, pb, ck, pk, ct, pt):
    """Faratin concession: a client's prices never fall, a provider's never rise; a
    deal lies in [provider x_min, client x_max + tol]; no deal runs past a deadline."""
    out = run(make_policy(cn, "client", beta=cb, k=ck, t_max=ct),
              make_policy(pn, "provider", beta=pb, k=pk, t_max=pt))
    for who in ("client", "provider"):
        amounts = [m.amount for m in out.messages if m.sender == who]
        steps = np.diff(amounts)
        assert (steps >= 0).all() if who == "client" else (steps <= 0).all()
    if out.status == "agreed":
        assert 50 * 10**6 <= out.amount <= 553 * 10**6
        assert out.closed_at <= ct
    else:
        assert out.reason == "deadline" and out.closed_at > min(ct, pt)
