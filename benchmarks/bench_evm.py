"""Throughput of the embedded EVM (``defisim.evm``) beside the Python core.

Prints operations per second of wall time and of CPU time (``time.process_time``):

- ERC-20 ``transfer`` (the ``ERC20`` artifact of ``@uniswap/v2-core``): on the embedded
  backend directly (``EmbeddedBackend.transact``), and through the chain
  (``Contract.transact``: a transaction of the ``evm`` protocol, its receipt and its
  decoded ``Transfer`` in the event log); beside a ledger transfer through the chain
  (``Simulation.send`` of the chain's own ``transfer``);
- a Uniswap V2 swap on the official bytecode pair (a token transfer to the pair, then
  ``pair.swap``; the amount out from ``getAmountOut`` on reserves tracked in Python),
  on the backend and through the chain; beside the Python ``V2Pair`` core and the
  ``amm`` protocol's V2 swap through the chain (``bench_amm.py``'s cases), and the
  same ``amm`` protocol with its pools on the bytecode (``EvmCores``: ``--set
  backend=evm``), embedded and on the external node;
- a snapshot and restore of the whole EVM state (``EmbeddedBackend``), in microseconds;
- an RL environment over pools on the bytecode: ``AmmEnv`` resets and steps on
  ``amm_pool`` with ``backend=python`` and ``backend=evm`` (the V3 pool's bytecode);
- the same ERC-20 transfers and V2 swaps on the external backend (a local anvil,
  ``ExternalBackend``; ``--n-external`` operations): one transaction per call (two
  HTTP requests each), through the chain, and batched (``transact_batch``: ``--batch``
  transactions per block, one HTTP request to send them); the last column adds the
  anvil process's own CPU seconds (from ``/proc``).

Needs the ``evm`` extra and npm (the artifacts and anvil install once into the cache).

Usage::

    .venv/bin/python benchmarks/bench_evm.py [--n 20000] [--n-external 2000] [--batch 100]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_amm import timed, v2_chain, v2_core  # noqa: E402

E18 = 10**18


def _setup(backend: str = "embedded"):
    from defisim import Simulation
    from defisim.evm import EvmProtocol, load_artifact

    arts = {n: load_artifact("@uniswap/v2-core", n)
            for n in ("ERC20", "UniswapV2Factory", "UniswapV2Pair")}
    sim = Simulation(seed=1, check_invariants=False, keep_events=False,
                     protocols=[EvmProtocol(backend)])
    evm = sim.evm
    a = evm.deploy("A", arts["ERC20"], 10**40, sender="trader")
    b = evm.deploy("B", arts["ERC20"], 10**40, sender="trader")
    fac = evm.deploy("factory", arts["UniswapV2Factory"], evm.address_of("trader"),
                     sender="trader")
    pair = evm.at("pair", fac.transact("createPair", a.address, b.address, sender="trader").value,
                  arts["UniswapV2Pair"])
    me = evm.address_of("trader")
    for t in (a, b):
        t.transact("transfer", pair.address, 1_000_000 * E18, sender="trader")
    pair.transact("mint", me, sender="trader")
    tokens = (evm.contract(pair.call("token0")), evm.contract(pair.call("token1")))
    return sim, evm, tokens, pair, me


_NODE_CPU: list[float] = []
"""The anvil CPU seconds of the last external case."""


def _node_cpu(pid: int) -> float:
    import os

    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_on(evm, n: int, body: Callable[[int], None]) -> tuple[float, float]:
    """``timed``, and for the external backend the node's CPU time in ``_NODE_CPU``;
    the node is stopped afterwards."""
    node = getattr(evm.backend, "node", None)
    if node is None:
        return timed(n, body)
    c0 = _node_cpu(node.pid)
    try:
        result = timed(n, body)
        _NODE_CPU.append(_node_cpu(node.pid) - c0)
    finally:
        evm.backend.close()
    return result


def erc20_backend(n: int, backend: str = "embedded") -> tuple[float, float]:
    _, evm, (tok, _), _, me = _setup(backend)
    be, to = evm.backend, evm.address_of("bob")
    return _timed_on(evm, n, lambda i: be.transact(me, tok.address, tok.abi, "transfer", (to, 1)))


def erc20_chain(n: int, backend: str = "embedded") -> tuple[float, float]:
    _, evm, (tok, _), _, _ = _setup(backend)
    to = evm.address_of("bob")
    return _timed_on(evm, n, lambda i: tok.transact("transfer", to, 1, sender="trader"))


def erc20_batched(n: int, batch: int) -> tuple[float, float]:
    """External backend: ``batch`` transfers per block (``transact_batch``)."""
    _, evm, (tok, _), _, me = _setup("external")
    be, to = evm.backend, evm.address_of("bob")
    call = (me, tok.address, tok.abi, "transfer", (to, 1), 0)

    def body(i: int) -> None:
        if i % batch == 0:
            res = be.transact_batch([call] * min(batch, n - i))
            assert all(r.gas_used and not isinstance(r, Exception) for r in res)

    result = _timed_on(evm, n, body)
    return result


def ledger_chain(n: int) -> tuple[float, float]:
    from defisim import Simulation
    from defisim.chain import Transaction

    sim = Simulation(seed=1, check_invariants=False, keep_events=False, protocols=[])
    sim.create_asset("USD", 18)
    for p in ("trader", "bob"):
        sim.create_party(p)
    sim.mint("trader", "USD", 10**12)
    tx = Transaction("trader", "", "transfer", ("bob", "USD", 1))
    return timed(n, lambda i: sim.send(tx))


def _swapper(through_chain: bool, backend: str = "embedded", batch: int = 0) -> Callable[[int], None]:
    sim, evm, tokens, pair, me = _setup(backend)
    backend = evm.backend
    reserves = list(pair.call("getReserves")[:2])
    amount = 10 * E18
    pending: list = []

    def swap(i: int) -> None:
        zero_for_one = not i & 1
        j, k = (0, 1) if zero_for_one else (1, 0)
        a = amount * 997
        out = a * reserves[k] // (reserves[j] * 1000 + a)
        outs = (0, out) if zero_for_one else (out, 0)
        tok = tokens[j]
        if batch:
            pending.append((me, tok.address, tok.abi, "transfer", (pair.address, amount), 0))
            pending.append((me, pair.address, pair.abi, "swap", (*outs, me, b""), 0))
            if len(pending) >= 2 * batch or i == swap.n - 1:  # type: ignore[attr-defined]
                res = backend.transact_batch(pending)
                assert not any(isinstance(r, Exception) for r in res), res
                pending.clear()
        elif through_chain:
            tok.transact("transfer", pair.address, amount, sender="trader")
            pair.transact("swap", *outs, me, b"", sender="trader")
        else:
            backend.transact(me, tok.address, tok.abi, "transfer", (pair.address, amount))
            backend.transact(me, pair.address, pair.abi, "swap", (*outs, me, b""))
        reserves[j] += amount
        reserves[k] -= out

    swap.check = lambda: tuple(reserves) == pair.call("getReserves")[:2]  # type: ignore[attr-defined]
    swap.evm = evm  # type: ignore[attr-defined]
    return swap


def v2_evm(n: int, through_chain: bool, backend: str = "embedded", batch: int = 0
           ) -> tuple[float, float]:
    swap = _swapper(through_chain, backend, batch)
    swap.n = n  # type: ignore[attr-defined]
    evm = swap.evm  # type: ignore[attr-defined]
    node = getattr(evm.backend, "node", None)
    if node is None:
        result = timed(n, swap)
        assert swap.check()  # type: ignore[attr-defined]
        return result
    c0 = _node_cpu(node.pid)
    try:
        result = timed(n, swap)
        _NODE_CPU.append(_node_cpu(node.pid) - c0)
        assert swap.check()  # type: ignore[attr-defined]
    finally:
        evm.backend.close()
    return result


def snapshot_restore(n: int) -> tuple[float, float]:
    _, evm, _, _, _ = _setup()
    backend = evm.backend

    def body(i: int) -> None:
        backend.restore(backend.snapshot())

    return timed(n, body)


def env_reset(n: int, backend: str) -> tuple[float, float]:
    """``AmmEnv.reset`` on ``amm_pool`` with its V3 pool on ``backend`` (the warmed-up
    state unpickled, the EVM included)."""
    from defisim.envs import AmmEnv

    env = AmmEnv(scenario="amm_pool", scenario_params={"backend": backend}, episode_steps=50,
                 warmup_steps=5)
    env.reset(seed=0)
    return timed(n, lambda i: env.reset(seed=i))


def env_step(n: int, backend: str) -> tuple[float, float]:
    """``AmmEnv.step`` (a swap, then one scenario step of noise and arbitrage)."""
    import numpy as np

    from defisim.envs import AmmEnv

    env = AmmEnv(scenario="amm_pool", scenario_params={"backend": backend}, episode_steps=n + 1,
                 warmup_steps=5)
    env.reset(seed=0)
    actions = [np.array([a], dtype=np.float32) for a in (0.3, -0.3)]
    return timed(n, lambda i: env.step(actions[i & 1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="operations per case (default 20,000)")
    ap.add_argument("--n-external", type=int, default=2_000,
                    help="operations per external-backend case (default 2,000)")
    ap.add_argument("--batch", type=int, default=100,
                    help="operations per block in the batched external cases (default 100)")
    args = ap.parse_args(argv)
    from defisim import extras

    if not extras.available("evm"):
        print("skipped: needs the evm extra (pip install 'defisim[evm]')", file=sys.stderr)
        return 0
    from defisim.evm import NpmUnavailable
    from defisim.evm.external import EvmNodeError, anvil_binary

    n, ne, nb = args.n, args.n_external, args.batch
    try:
        anvil_binary()
        external = True
    except EvmNodeError as exc:
        print(f"external backend skipped: {exc}", file=sys.stderr)
        external = False
    cases = [
        ("ERC-20 transfer, embedded EVM backend", "transfers", lambda: erc20_backend(n), n),
        ("ERC-20 transfer, evm protocol through the chain", "transfers", lambda: erc20_chain(n), n),
        ("ledger transfer through the chain (Python)", "transfers", lambda: ledger_chain(n), n),
        ("V2 swap, bytecode pair, embedded backend", "swaps", lambda: v2_evm(n, False), n),
        ("V2 swap, bytecode pair, through the chain", "swaps", lambda: v2_evm(n, True), n),
        ("V2 swap, Python V2Pair core", "swaps", lambda: v2_core(n), n),
        ("V2 swap, Python amm protocol through the chain", "swaps", lambda: v2_chain(n), n),
        ("V2 swap, amm protocol on the bytecode (EvmCores)", "swaps",
         lambda: v2_chain(n // 4, "evm"), n // 4),
        ("EVM snapshot + restore (small state)", "round trips", lambda: snapshot_restore(n // 10),
         n // 10),
        ("AmmEnv reset, amm_pool, Python pool", "resets", lambda: env_reset(200, "python"), 200),
        ("AmmEnv reset, amm_pool, V3 pool on the bytecode", "resets",
         lambda: env_reset(200, "evm"), 200),
        ("AmmEnv step, amm_pool, Python pool", "steps", lambda: env_step(200, "python"), 200),
        ("AmmEnv step, amm_pool, V3 pool on the bytecode", "steps",
         lambda: env_step(200, "evm"), 200),
    ]
    if external:
        cases += [
            ("ERC-20 transfer, external (anvil), one per call", "transfers",
             lambda: erc20_backend(ne, "external"), ne),
            ("ERC-20 transfer, external, through the chain", "transfers",
             lambda: erc20_chain(ne, "external"), ne),
            (f"ERC-20 transfer, external, batched {nb}/block", "transfers",
             lambda: erc20_batched(ne, nb), ne),
            ("V2 swap, external (anvil), one tx per call", "swaps",
             lambda: v2_evm(ne, False, "external"), ne),
            ("V2 swap, external, through the chain", "swaps",
             lambda: v2_evm(ne, True, "external"), ne),
            (f"V2 swap, external, batched {nb}/block", "swaps",
             lambda: v2_evm(ne, False, "external", nb), ne),
            ("V2 swap, amm protocol on the bytecode, external", "swaps",
             lambda: v2_chain(ne // 4, "evm", "external"), ne // 4),
        ]
    print(f"{'case':50s} {'per wall s':>12s} {'per CPU s':>12s}  {'wall s':>7s} {'CPU s':>7s}"
          f"  {'CPU s, with anvil':>17s}")
    for label, unit, run, count in cases:
        _NODE_CPU.clear()
        try:
            wall, cpu = run()
        except NpmUnavailable as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            return 0
        node = f"{cpu + _NODE_CPU[0]:17.2f}" if _NODE_CPU else f"{'':17s}"
        print(f"{label:50s} {count / wall:12,.0f} {count / max(cpu, 1e-9):12,.0f}  "
              f"{wall:7.2f} {cpu:7.2f}  {node}  {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
