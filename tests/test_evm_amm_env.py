"""An RL environment over pools on the official bytecode: ``AmmEnv`` on ``amm_pool``
with ``backend=evm`` (the Uniswap V3 pool's state in the EVM). A reset restores the
warmed-up state, EVM included (``benchmarks/bench_evm.py`` times it); the same seed gives the same episode,
bit for bit, and the same episode as on the Python pool.
"""

from __future__ import annotations

import numpy as np
import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from defisim.envs import AmmEnv  # noqa: E402
from defisim.evm import NpmUnavailable  # noqa: E402

ACTIONS = [np.array([a], dtype=np.float32) for a in (0.8, -0.5, 0.0, 1.0, -1.0, 0.3, -0.2, 0.6)]


def _env(backend: str, mode: str = "swapper") -> AmmEnv:
    try:
        return AmmEnv(scenario="amm_pool", scenario_params={"backend": backend}, mode=mode,
                      episode_steps=len(ACTIONS), warmup_steps=3)
    except NpmUnavailable as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"npm artifacts unavailable: {exc}")


def _episode(env: AmmEnv, seed: int, actions) -> tuple[np.ndarray, list[float]]:
    obs, _ = env.reset(seed=seed)
    seen, rewards = [obs], []
    for a in actions:
        obs, r, term, trunc, _ = env.step(a)
        seen.append(obs)
        rewards.append(r)
        if term or trunc:
            break
    return np.array(seen), rewards


def test_evm_episodes_are_deterministic_and_equal_the_python_ones():
    evm, py = _env("evm"), _env("python")
    o1, r1 = _episode(evm, 7, ACTIONS)
    o2, r2 = _episode(evm, 7, ACTIONS)
    assert np.array_equal(o1, o2) and r1 == r2
    o3, r3 = _episode(evm, 8, ACTIONS)
    assert not np.array_equal(o1, o3)  # another seed, another market
    op, rp = _episode(py, 7, ACTIONS)
    assert np.array_equal(o1, op) and r1 == rp
    assert any(r != 0 for r in r1)


def test_lp_mode_on_the_bytecode_matches_python():
    actions = [np.array([i % 4, i % 3]) for i in range(6)]
    o1, r1 = _episode(_env("evm", "lp"), 3, actions)
    o2, r2 = _episode(_env("python", "lp"), 3, actions)
    assert np.array_equal(o1, o2) and r1 == r2
