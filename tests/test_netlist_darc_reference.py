"""defisim's seven DARC netlists against DARC-SPICE's own output (spec 7.4).

``tests/data/darcspice/`` holds ``data.csv``/``datax.csv``/``rpdata.csv`` written by
DARC-SPICE's code (opscientia/darcspice 3f0602a) with the patches listed in its
``README.md`` (in-memory wei ledger instead of ganache, seeded ``random``, a driver, the
declared agent order for ``opsci_mult_profit_sharing``), generated with
``tests/darcspice_reference/make_reference.py``. Each case runs defisim's netlist with the
same run seed and horizon (``cases.json``) and requires the three CSVs byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

DATA = Path(__file__).resolve().parent / "data" / "darcspice"
CASES = json.loads((DATA / "cases.json").read_text())
FILES = ("data.csv", "datax.csv", "rpdata.csv")


def reference(name: str, f: str) -> bytes:
    return gzip.decompress((DATA / name / f"{f}.gz").read_bytes())


def test_readme_lists_every_reference_file_with_its_sha256():
    rows = re.findall(r"^\| (\w+) \| `[^`]*` \| ([\w.]+) \| `([0-9a-f]{64})` \|$",
                      (DATA / "README.md").read_text(), re.M)
    assert {(n, f) for n, f, _ in rows} == {(n, f) for n in CASES for f in FILES}
    for name, f, sha in rows:
        assert hashlib.sha256(reference(name, f)).hexdigest() == sha, (name, f)


@pytest.mark.parametrize("name", list(CASES))
def test_byte_identical_to_darcspice(name, tmp_path):
    case = CASES[name]
    cls = get_scenario(name)
    scn = cls(cls.Params(max_time=case["ticks"], max_time_unit="ticks", **case.get("defisim_set", {})))
    run_scenario(scn, seed=case["seed"], record=False, progress=False)
    scn.write_csv(tmp_path)
    for f in FILES:
        ours = (tmp_path / f).read_bytes()
        ref = reference(name, f)
        if ours != ref:
            a, b = ours.decode().splitlines(), ref.decode().splitlines()
            line = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            pytest.fail(f"{name}/{f} differs from DARC-SPICE at line {line + 1} "
                        f"({len(a)} vs {len(b)} lines):\n ours {a[line] if line < len(a) else '-'}"
                        f"\n darc {b[line] if line < len(b) else '-'}")
