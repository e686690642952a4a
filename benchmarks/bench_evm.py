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
  ``amm`` protocol's V2 swap through the chain (``bench_amm.py``'s cases);
- a snapshot and restore of the whole EVM state (``EmbeddedBackend``), in microseconds.

Needs the ``evm`` extra and npm (the artifacts install once into the cache).

Usage::

    .venv/bin/python benchmarks/bench_evm.py [--n 20000]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_amm import timed, v2_chain, v2_core  # noqa: E402

E18 = 10**18


def _setup():
    from defisim import Simulation
    from defisim.evm import load_artifact

    arts = {n: load_artifact("@uniswap/v2-core", n)
            for n in ("ERC20", "UniswapV2Factory", "UniswapV2Pair")}
    sim = Simulation(seed=1, check_invariants=False, keep_events=False, protocols=["evm"])
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


def erc20_backend(n: int) -> tuple[float, float]:
    _, evm, (tok, _), _, me = _setup()
    backend, to = evm.backend, evm.address_of("bob")
    return timed(n, lambda i: backend.transact(me, tok.address, tok.abi, "transfer", (to, 1)))


def erc20_chain(n: int) -> tuple[float, float]:
    _, evm, (tok, _), _, _ = _setup()
    to = evm.address_of("bob")
    return timed(n, lambda i: tok.transact("transfer", to, 1, sender="trader"))


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


def _swapper(through_chain: bool) -> Callable[[int], None]:
    _, evm, tokens, pair, me = _setup()
    backend = evm.backend
    reserves = list(pair.call("getReserves")[:2])
    amount = 10 * E18

    def swap(i: int) -> None:
        zero_for_one = not i & 1
        j, k = (0, 1) if zero_for_one else (1, 0)
        a = amount * 997
        out = a * reserves[k] // (reserves[j] * 1000 + a)
        outs = (0, out) if zero_for_one else (out, 0)
        tok = tokens[j]
        if through_chain:
            tok.transact("transfer", pair.address, amount, sender="trader")
            pair.transact("swap", *outs, me, b"", sender="trader")
        else:
            backend.transact(me, tok.address, tok.abi, "transfer", (pair.address, amount))
            backend.transact(me, pair.address, pair.abi, "swap", (*outs, me, b""))
        reserves[j] += amount
        reserves[k] -= out

    swap.check = lambda: tuple(reserves) == pair.call("getReserves")[:2]  # type: ignore[attr-defined]
    return swap


def v2_evm(n: int, through_chain: bool) -> tuple[float, float]:
    swap = _swapper(through_chain)
    result = timed(n, swap)
    assert swap.check()  # type: ignore[attr-defined]
    return result


def snapshot_restore(n: int) -> tuple[float, float]:
    _, evm, _, _, _ = _setup()
    backend = evm.backend

    def body(i: int) -> None:
        backend.restore(backend.snapshot())

    return timed(n, body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="operations per case (default 20,000)")
    args = ap.parse_args(argv)
    from defisim import extras

    if not extras.available("evm"):
        print("skipped: needs the evm extra (pip install 'defisim[evm]')", file=sys.stderr)
        return 0
    from defisim.evm import NpmUnavailable

    n = args.n
    cases = [
        ("ERC-20 transfer, embedded EVM backend", "transfers", lambda: erc20_backend(n), n),
        ("ERC-20 transfer, evm protocol through the chain", "transfers", lambda: erc20_chain(n), n),
        ("ledger transfer through the chain (Python)", "transfers", lambda: ledger_chain(n), n),
        ("V2 swap, bytecode pair, embedded backend", "swaps", lambda: v2_evm(n, False), n),
        ("V2 swap, bytecode pair, through the chain", "swaps", lambda: v2_evm(n, True), n),
        ("V2 swap, Python V2Pair core", "swaps", lambda: v2_core(n), n),
        ("V2 swap, Python amm protocol through the chain", "swaps", lambda: v2_chain(n), n),
        ("EVM snapshot + restore (small state)", "round trips", lambda: snapshot_restore(n // 10),
         n // 10),
    ]
    print(f"{'case':50s} {'per wall s':>12s} {'per CPU s':>12s}  {'wall s':>7s} {'CPU s':>7s}")
    for label, unit, run, count in cases:
        try:
            wall, cpu = run()
        except NpmUnavailable as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            return 0
        print(f"{label:50s} {count / wall:12,.0f} {count / max(cpu, 1e-9):12,.0f}  "
              f"{wall:7.2f} {cpu:7.2f}  {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
