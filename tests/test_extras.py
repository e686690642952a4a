"""The light core install: what works without the extras, and the error naming a
missing extra (:mod:`defisim.extras`).

The missing packages are simulated in a subprocess whose first ``sys.meta_path``
finder refuses torch, gymnasium, pettingzoo, optuna, ray, TA-Lib, stable-baselines3,
the evm extra's simular, eth-abi, eth-hash, eth-utils and the serve extra's strawberry,
fastapi, uvicorn and the paper extra's ccxt (``ModuleNotFoundError``, as without them installed). The
fresh-install check of the same (a real core-only venv) is ``.ci/core_install_check.sh``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from defisim import extras
from defisim.extras import EXTRAS, MissingExtraError, available, require

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

BLOCKED = ("torch", "gymnasium", "pettingzoo", "optuna", "ray", "talib", "stable_baselines3",
           "simular", "eth_abi", "eth_hash", "eth_utils", "strawberry", "fastapi", "uvicorn",
           "ccxt")

BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {BLOCKED!r}

class _NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NoExtras())
"""


def _python(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` after the blocker in a fresh interpreter (``sys.argv[1:]`` = args)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=120,
    )


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return _python("from defisim.cli import app\napp()\n", *args, cwd=tmp_path)


# ------------------------------------------------------------ defisim.extras
def test_require_returns_the_module_and_names_the_extra_of_a_missing_one():
    import math

    assert require("ta", "math") is math
    with pytest.raises(MissingExtraError) as err:
        require("rl", "math", "defisim_no_such_module", feature="a thing")
    exc = err.value
    assert isinstance(exc, ImportError)
    assert (exc.extra, exc.feature, exc.module) == ("rl", "a thing", "defisim_no_such_module")
    assert str(exc) == (
        "a thing needs the 'rl' extra (defisim_no_such_module is not installed): "
        "pip install 'defisim[rl]'"
    )
    assert isinstance(exc.__cause__, ModuleNotFoundError)


def test_require_reports_a_module_that_is_installed_but_fails_to_import(tmp_path, monkeypatch):
    (tmp_path / "defisim_broken_mod.py").write_text("import defisim_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingExtraError, match="cannot import defisim_broken_mod: No module "
                       "named 'defisim_missing_dependency'"):
        require("optimize", "defisim_broken_mod")
    sys.modules.pop("defisim_broken_mod", None)


def test_require_refuses_an_unknown_extra():
    with pytest.raises(ValueError, match="unknown extra 'gpu'; the extras are rl, ray"):
        require("gpu", "math")


def test_available_and_default_modules(monkeypatch):
    monkeypatch.setitem(EXTRAS, "ta", ("math", "defisim_no_such_module"))
    assert not available("ta")
    monkeypatch.setitem(EXTRAS, "ta", ("math",))
    assert available("ta")


def test_pyproject_extras_match_the_module():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    opt = meta["optional-dependencies"]
    assert set(EXTRAS) | {"all", "test"} == set(opt)
    assert opt["all"] == [f"defisim[{','.join(EXTRAS)}]"]
    assert "defisim[all]" in opt["test"]
    assert set(extras.FEATURES) == set(EXTRAS)
    assert "torch==2.13.0" in opt["rl"]  # a looser pin downloads CUDA builds

    def names(reqs):
        return {r.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip() for r in reqs}

    optional = set().union(*(names(opt[e]) for e in EXTRAS))
    assert {"torch", "gymnasium", "pettingzoo", "ray", "optuna", "ta-lib",
            "strawberry-graphql", "fastapi", "uvicorn", "ccxt"} <= optional
    assert not names(meta["dependencies"]) & optional


# ------------------------------------------------------- without the extras
SERVE_MODULES = ("defisim.server.types", "defisim.server.schema", "defisim.server.app",
                 "defisim.server.remote", "defisim.server.live", "defisim.server.console")
"""The modules of defisim.server that need the serve extra (defisim.server, its data
source and the console's frames do not)."""


def test_every_core_module_imports_without_the_extras():
    """Every module but defisim.envs / defisim.learning (which need the rl extra) and
    the GraphQL server's (:data:`SERVE_MODULES`, the serve extra)."""
    res = _python(f"""
        import json, pkgutil, sys, importlib
        import defisim
        names = [m.name for m in pkgutil.walk_packages(defisim.__path__, "defisim.")
                 if not m.name.startswith(("defisim.envs", "defisim.learning",
                                           *{SERVE_MODULES!r}))]
        for n in names:
            importlib.import_module(n)
        print(json.dumps({{"n": len(names), "leaked": sorted(
            m for m in sys.modules if m.split(".")[0] in BLOCKED)}}))
    """)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.splitlines()[-1])
    assert out["n"] > 50 and out["leaked"] == []


def test_help_and_a_short_btc_futures_run_work_without_the_extras(tmp_path):
    res = _cli(tmp_path, "--help")
    assert res.returncode == 0 and "train" in res.stdout, res.stderr
    res = _cli(tmp_path, "run", "btc_futures", "--steps", "30", "--out", "run", "--no-plots",
               "--quiet")
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 30 and summary.get("error") is None


@pytest.mark.parametrize(
    ("args", "extra", "feature", "folder"),
    [
        (["train", "btc_futures", "--max-iterations", "1", "--out", "t"], "rl",
         "defisim train", "t"),
        (["evaluate", "t/checkpoints/latest.pt"], "rl", "defisim evaluate", "t"),
        (["optimize", "btc_futures", "--param", "sigma=0.1:0.9", "--objective", "x",
          "--out", "o"], "optimize", "defisim optimize", "o"),
        (["sweep", "btc_futures", "--grid", "sigma=0.5,0.6", "--backend", "ray", "--out", "s"],
         "ray", "defisim sweep --backend ray", "s"),
        (["serve", "no-such-run"], "serve", "defisim serve", "no-such-run"),
        (["paper", "t", "--feed", "exchange"], "rl", "defisim paper", "t"),
    ],
    ids=["train", "evaluate", "optimize", "sweep-ray", "serve", "paper"],
)
def test_a_command_needing_an_extra_names_it_and_exits_2(tmp_path, args, extra, feature, folder):
    res = _cli(tmp_path, *args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stderr.splitlines() == [
        f"error: {feature} needs the '{extra}' extra ({EXTRAS[extra][0]} is not installed): "
        f"pip install 'defisim[{extra}]'"
    ]
    assert not (tmp_path / folder).exists()


def test_the_python_api_names_the_extra(tmp_path):
    res = _python("""
        import json
        from pathlib import Path
        from defisim.extras import MissingExtraError
        out = {}

        def check(key, fn):
            try:
                fn()
            except MissingExtraError as exc:
                out[key] = [exc.extra, str(exc)]
            else:
                out[key] = None

        def envs():
            import defisim.envs  # noqa

        def learning():
            import defisim.learning  # noqa

        def cmo():
            from defisim.agents.momentum.indicators import CMO
            CMO(14)

        def optimize():
            from defisim.experiments.optimize import run_optimize
            run_optimize("btc_futures", {"sigma": (0.1, 0.9)}, "x", Path("o"), trials=1)

        def sweep():
            from defisim.experiments import run_sweep
            run_sweep("btc_futures", {"sigma": [0.5]}, 1, Path("s"), backend="ray")

        def server():
            from defisim.server import create_app  # noqa

        for key, fn in [("envs", envs), ("learning", learning), ("cmo", cmo),
                        ("optimize", optimize), ("sweep", sweep), ("server", server)]:
            check(key, fn)
        print(json.dumps(out))
    """, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.splitlines()[-1])
    expected = {"envs": "rl", "learning": "rl", "cmo": "ta", "optimize": "optimize",
                "sweep": "ray", "server": "serve"}
    assert {k: v and v[0] for k, v in out.items()} == expected
    for key, extra in expected.items():
        assert out[key][1].endswith(f"pip install 'defisim[{extra}]'")
    assert "the CMO indicator needs the 'ta' extra (talib is not installed)" in out["cmo"][1]
    assert not (tmp_path / "o").exists() and not (tmp_path / "s").exists()
