# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PRICES ?= ../shared/data/crypto/BTCUSDT_1h.csv
OUT    ?= runs/btc_futures

.PHONY: install install-test evm-artifacts run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the core (simulate, record, plot); `make test` installs every extra too (.[test])
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## the main job: a BTC futures market around real hourly prices (a GBM path without the file);
## the core install is enough. --force: a second `make run` replaces the previous run.
run: install
	$(BIN)/defisim run btc_futures $(if $(wildcard $(PRICES)),--prices $(PRICES),) --out $(OUT) --force
	@echo "defisim is in $(BIN): run \`. $(BIN)/activate\` then \`defisim --help\`, or $(BIN)/defisim ..."
	@echo "train/evaluate, optimize, sweep --backend ray need extras: $(BIN)/pip install -e '.[all]'"

## the contracts of defisim.evm (Uniswap V2 core and periphery, pinned npm packages) and anvil
## (the external backend, @foundry-rs/anvil-linux-amd64), once,
## into ~/.cache/defisim/npm ($$DEFISIM_CACHE_DIR/npm); without npm or its registry the EVM
## tests skip, so a failure here only warns
evm-artifacts: install-test
	$(BIN)/python -c "from defisim.evm.artifacts import main; raise SystemExit(main())" || echo "evm-artifacts: not installed; the EVM tests will skip"
	$(BIN)/python -c "from defisim.evm.solidity import main; raise SystemExit(main())" || echo "evm-artifacts: solc-js/OpenZeppelin not installed; the Solidity tests will skip"
	$(BIN)/python -c "from defisim.evm.external import main; raise SystemExit(main())" || echo "evm-artifacts: anvil not installed; the external-backend tests will skip"

## the whole test suite (lint first)
test: install-test evm-artifacts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_lobster.py
	$(BIN)/python benchmarks/bench_btc_futures.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
