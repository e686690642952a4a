"""Every scenario's recorded tables are bit-identical to the stored fingerprints.

Written before the rebuild of issue 9 (protocol plug-ins, transactions, one
runner, views): immediate mode must reproduce every table of every case in
:data:`fingerprints.CASES`. A deliberate change regenerates the file with
``python tests/fingerprints.py SCENARIO`` and says why in its commit.
"""

from __future__ import annotations

import json

import pytest
from fingerprints import CASES, DATA_CASES, FINGERPRINT_FILE, case_id, fingerprint_run

STORED = json.loads(FINGERPRINT_FILE.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case_id(*c) for c in CASES])
def test_tables_match_fingerprints(case):
    got = fingerprint_run(*case)
    want = STORED[case_id(*case)]
    changed = sorted(t for t in set(got) | set(want) if got.get(t) != want.get(t))
    assert not changed, f"tables changed: {changed}"


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("case", DATA_CASES, ids=[case_id(*c) for c in DATA_CASES])
def test_tables_on_real_prices_match_fingerprints(case):
    test_tables_match_fingerprints(case)
