#!/usr/bin/env bash
# The core install on a fresh venv (`pip install -e .`, no extras): it pulls none of the
# extras' packages (torch above all), `defisim run btc_futures` works, and each command
# that needs an extra exits 2 with one `error:` line naming it.
# Usage: .ci/core_install_check.sh   (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
venv=$tmp/venv-core
fail() { echo "core install check: $*" >&2; exit 1; }

t0=$(date +%s)
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e . 2>&1 \
    | grep -v "^WARNING: Location 'file:" || true
"$venv/bin/python" -c "import defisim" || fail "pip install -e . failed"
echo "core install: $(du -sh "$venv" | cut -f1) in $(($(date +%s) - t0)) s"

# none of the extras' packages came with the core
"$venv/bin/python" - <<'PY' || fail "the core install pulled an extra's package"
import importlib.util, sys
extra = ("torch", "gymnasium", "pettingzoo", "optuna", "ray", "talib", "strawberry", "fastapi",
         "ccxt")
found = [m for m in extra if importlib.util.find_spec(m) is not None]
if found:
    sys.exit(f"installed without an extra: {', '.join(found)}")
PY

defisim="$venv/bin/defisim"
"$defisim" --help >/dev/null || fail "defisim --help failed"
"$defisim" run btc_futures --steps 50 --out "$tmp/run" --quiet >/dev/null \
    || fail "defisim run btc_futures failed"
for f in summary.json run.duckdb prices.png; do
    [ -f "$tmp/run/$f" ] || fail "the run folder has no $f"
done

# expect_extra EXTRA ARGS...: `defisim ARGS` exits 2 naming EXTRA and creates nothing
expect_extra() {
    local extra=$1; shift
    local rc=0
    "$defisim" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" = 2 ] || fail "defisim $* exited $rc, not 2: $(cat "$tmp/err")"
    grep -qF "needs the '$extra' extra" "$tmp/err" \
        && grep -qF "pip install 'defisim[$extra]'" "$tmp/err" \
        || fail "defisim $* does not name the '$extra' extra: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" = 1 ] || fail "defisim $* printed more than one line: $(cat "$tmp/err")"
    [ ! -e "$tmp/made" ] || fail "defisim $* created $tmp/made"
    echo "  defisim $1: $(cat "$tmp/err")"
}
expect_extra rl train btc_futures --max-iterations 1 --out "$tmp/made"
expect_extra rl evaluate "$tmp/made"
expect_extra optimize optimize btc_futures --param sigma=0.2:1.0 --objective volume --out "$tmp/made"
expect_extra ray sweep btc_futures --grid sigma=0.3,0.6 --backend ray --out "$tmp/made"
expect_extra serve serve "$tmp/run"
echo "core install check: ok ($(($(date +%s) - t0)) s)"
