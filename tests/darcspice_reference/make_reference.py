"""Regenerate ``tests/data/darcspice/``: DARC-SPICE's own output for the seven DARC netlists.

Usage (from the defisim repository root; see ``run_darc.py`` for the checkout)::

    PYTHONPATH=src python tests/darcspice_reference/make_reference.py DARC_DIR

For every case of ``tests/data/darcspice/cases.json`` it runs ``run_darc.py`` (DARC-SPICE's
netlist code, seed and horizon of the case) in a fresh process, stores ``data.csv``,
``datax.csv`` and ``rpdata.csv`` gzipped (``mtime=0``, so the archives are reproducible) as
``NETLIST/*.csv.gz`` and rewrites the table of ``README.md`` between its markers with
the command and the sha256 of each CSV. ``tests/test_netlist_darc_reference.py`` runs
defisim on the same cases and requires byte-identical CSVs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "darcspice"
FILES = ("data.csv", "datax.csv", "rpdata.csv")
BEGIN, END = "<!-- files: begin -->", "<!-- files: end -->"


def darc_args(case: dict) -> list[str]:
    """``run_darc.py``'s options for a case of ``cases.json``."""
    args = ["--seed", str(case["seed"]), "--ticks", str(case["ticks"])]
    for key, value in case.get("darc_set", {}).items():
        args += ["--set", f"{key}={value!r}"]
    if case.get("no_researchers") is not None:
        args += ["--no-researchers", str(case["no_researchers"])]
    return args


def main(darc_dir: str) -> None:
    cases = json.loads((DATA / "cases.json").read_text())
    lines = ["| netlist | command (`run_darc.py DARC_DIR NETLIST OUT ...`) | file | sha256 of the CSV |",
             "|---|---|---|---|"]
    for name, case in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / name
            args = darc_args(case)
            subprocess.run([sys.executable, str(HERE / "run_darc.py"), darc_dir, name, str(out), *args],
                           check=True, stderr=subprocess.DEVNULL)
            (DATA / name).mkdir(parents=True, exist_ok=True)
            for f in FILES:
                raw = (out / f).read_bytes()
                (DATA / name / f"{f}.gz").write_bytes(gzip.compress(raw, 9, mtime=0))
                lines.append(f"| {name} | `{' '.join(args)}` | {f} | `{hashlib.sha256(raw).hexdigest()}` |")
        print(name, "done")
    readme = DATA / "README.md"
    text = readme.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
