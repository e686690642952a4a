"""Solidity compiled offline with solc-js (the npm ``solc`` package), OpenZeppelin included.

:func:`compile_solidity` compiles a ``.sol`` file (or Solidity source text) to an
:class:`~defisim.evm.artifacts.Artifact` that :meth:`EvmProtocol.deploy
<defisim.evm.protocol.EvmProtocol.deploy>` takes as it is:

- the compiler is the npm package ``solc`` (solc-js: the real compiler built to
  JavaScript/WebAssembly, ``soljson.js`` ships inside the package) at a pinned version
  (:data:`SOLC_VERSION`), run by ``node`` through its standard-JSON interface with a
  small driver script written to the cache; OpenZeppelin is the npm package
  ``@openzeppelin/contracts`` (:data:`OPENZEPPELIN_VERSION`). Both are installed once,
  like the Uniswap artifacts (:func:`~defisim.evm.artifacts.install_package`, the same
  cache); nothing is downloaded while compiling;
- imports: relative ones against the importing file's folder, the others against the
  main file's folder, the ``include_paths`` given, then the OpenZeppelin package's
  ``node_modules`` (so ``import "@openzeppelin/contracts/token/ERC20/ERC20.sol";``
  works as with Hardhat or Foundry);
- outputs are cached under ``<cache>/solidity/`` by a hash of the source, the compiler
  version and the settings, with the hash of every imported file checked on use, so a
  recompile of unchanged sources reads one JSON file (milliseconds);
- compiler errors are one :class:`SolidityError` whose message starts
  ``file:line:column: ErrorType: message`` for each error;
- ``evmVersion`` is :data:`EVM_VERSION` (``"cancun"``, solc 0.8.28's default): the
  embedded backend's revm (simular-evm 0.3.0) runs Cancun's ``MCOPY``,
  ``TSTORE``/``TLOAD`` and ``BLOBBASEFEE`` (``tests/test_evm_solidity.py`` checks it),
  so OpenZeppelin 5.x (``ReentrancyGuardTransient`` included) needs no older target.

Needs ``node`` and ``npm`` (not the ``evm`` extra: compiling is independent of the
backend). :func:`main` installs the compiler and OpenZeppelin (``make evm-artifacts``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .artifacts import Artifact, ArtifactError, NpmUnavailable, cache_dir, install_package

__all__ = [
    "EVM_VERSION",
    "OPENZEPPELIN_VERSION",
    "SOLC_VERSION",
    "SolidityError",
    "compile_solidity",
    "main",
]

SOLC_VERSION = "0.8.28"
"""The npm ``solc`` (solc-js) version used by default (MIT/GPL-3.0 compiler, fetched at
set-up time)."""

OPENZEPPELIN_VERSION = "5.4.0"
"""The npm ``@openzeppelin/contracts`` version imports resolve to (MIT)."""

EVM_VERSION = "cancun"
"""The ``evmVersion`` compiled for: the newest the embedded revm runs (see module doc)."""

COMPILE_TIMEOUT_S = 300

_DRIVER = r"""
// defisim: solc-js standard-JSON driver. argv: solc package dir; stdin: {input, roots}.
const fs = require('fs');
const path = require('path');
const solc = require(process.argv[2]);
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
const read = {};
function findImports(name) {
  for (const root of req.roots) {
    const p = path.resolve(root, name);
    try {
      const contents = fs.readFileSync(p, 'utf8');
      read[name] = p;
      return { contents };
    } catch (e) { /* next root */ }
  }
  return { error: 'File not found: ' + name + ' (searched: ' + req.roots.join(', ') + ')' };
}
const out = JSON.parse(solc.compile(JSON.stringify(req.input), { import: findImports }));
out.defisim = { read, version: solc.version() };
process.stdout.write(JSON.stringify(out));
"""


class SolidityError(ArtifactError):
    """Solidity did not compile: the message lists every error as
    ``file:line:column: ErrorType: message``; ``errors`` holds them one per item."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = errors or [message]
        super().__init__(message)


def _sha(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def _out_dir() -> Path:
    return cache_dir().parent / "solidity"


def _driver() -> Path:
    path = _out_dir() / f"driver-{_sha(_DRIVER)[:12]}.js"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(_DRIVER)
        tmp.replace(path)
    return path


def _is_path(src: str | os.PathLike) -> bool:
    if isinstance(src, os.PathLike):
        return True
    return "\n" not in src and src.strip().endswith(".sol") and ";" not in src


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text.encode()[:max(offset, 0)].decode(errors="replace")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _format_error(err: dict, files: dict[str, tuple[str, str]]) -> str:
    """``file:line:column: Type: message`` (``files``: unit name -> (shown name, text))."""
    kind, msg = err.get("type", "Error"), err.get("message", "").strip()
    loc = err.get("sourceLocation") or {}
    unit = loc.get("file")
    if unit is None:
        return f"{kind}: {msg}"
    shown, text = files.get(unit, (unit, None))
    if text is None:
        return f"{shown}: {kind}: {msg}"
    line, col = _line_col(text, int(loc.get("start", 0)))
    return f"{shown}:{line}:{col}: {kind}: {msg}"


def compile_solidity(path_or_source: str | os.PathLike, contract: str | None = None, *,
                     optimize: bool = True, runs: int = 200, version: str = SOLC_VERSION,
                     evm_version: str = EVM_VERSION,
                     include_paths: tuple[str | os.PathLike, ...] = ()) -> Artifact:
    """Compile a Solidity file (a path ending ``.sol``) or source text and return the
    ``contract`` in it (default: its only deployable contract, else the one named as the
    file) as an :class:`Artifact` (``package="solc"``, ``version`` the compiler's,
    ``path`` the file).

    Raises:
        SolidityError: the source does not compile (each error as
            ``file:line:column: Type: message``), has no such contract, or the contract
            needs library linking.
        NpmUnavailable: node or npm is missing, or solc/OpenZeppelin cannot be installed.
        FileNotFoundError: the file does not exist.
    """
    if _is_path(path_or_source):
        path = Path(path_or_source).resolve()
        source = path.read_text()
        unit, shown, base = path.name, str(path_or_source), path.parent
    else:
        source = str(path_or_source)
        unit, shown, base = "Source.sol", "<source>.sol", Path.cwd()
        path = None
    settings: dict[str, Any] = {
        "optimizer": {"enabled": bool(optimize), "runs": int(runs)},
        "evmVersion": evm_version,
        "outputSelection": {unit: {"*": ["abi", "evm.bytecode.object",
                                         "evm.deployedBytecode.object"]}},
    }
    roots = [str(base)] + [str(Path(p).resolve()) for p in include_paths]
    key = _sha(json.dumps([unit, source, version, OPENZEPPELIN_VERSION, settings, roots],
                          sort_keys=True))
    entry = _out_dir() / "out" / f"{key}.json"
    out = _cached(entry)
    if out is None:
        out = _compile(unit, source, settings, roots, version)
        errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
        if errors:
            files = {unit: (shown, source)}
            for name, p in out["defisim"]["read"].items():
                try:
                    files[name] = (p, Path(p).read_text())
                except OSError:
                    pass
            lines = [_format_error(e, files) for e in errors]
            raise SolidityError("Solidity compile failed:\n" + "\n".join(lines), lines)
        _store(entry, out)
    return _pick(out, unit, shown, contract, path, version)


def _cached(entry: Path) -> dict | None:
    try:
        out = json.loads(entry.read_text())
    except (OSError, ValueError):
        return None
    for p, digest in out["defisim"].get("hashes", {}).items():
        try:
            if _sha(Path(p).read_bytes()) != digest:
                return None
        except OSError:
            return None
    return out


def _store(entry: Path, out: dict) -> None:
    hashes = {}
    for p in out["defisim"]["read"].values():
        try:
            hashes[p] = _sha(Path(p).read_bytes())
        except OSError:
            return  # an import vanished meanwhile: do not cache
    out["defisim"]["hashes"] = hashes
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(entry)


def _compile(unit: str, source: str, settings: dict, roots: list[str], version: str) -> dict:
    node = shutil.which("node")
    if node is None:
        raise NpmUnavailable("node is not on PATH: cannot run the Solidity compiler "
                             "(solc-js); install Node.js/npm")
    solc = install_package("solc", version)
    oz = install_package("@openzeppelin/contracts", OPENZEPPELIN_VERSION)
    roots = roots + [str(oz.parent.parent)]  # .../node_modules
    req = {"input": {"language": "Solidity", "sources": {unit: {"content": source}},
                     "settings": settings}, "roots": roots}
    try:
        res = subprocess.run([node, str(_driver()), str(solc)], input=json.dumps(req),
                             capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise SolidityError(f"solc {version} took over {COMPILE_TIMEOUT_S} s") from exc
    if res.returncode != 0:
        tail = " ".join(res.stderr.split())[-400:]
        raise SolidityError(f"solc-js {version} failed (exit {res.returncode}): {tail}")
    return json.loads(res.stdout)


def _pick(out: dict, unit: str, shown: str, contract: str | None, path: Path | None,
          version: str) -> Artifact:
    found = out.get("contracts", {}).get(unit, {})
    if contract is None:
        deployable = [n for n, c in found.items() if c["evm"]["bytecode"]["object"]]
        stem = Path(unit).stem
        if len(deployable) == 1:
            contract = deployable[0]
        elif stem in deployable:
            contract = stem
        else:
            raise SolidityError(f"{shown}: which contract? it has {', '.join(found) or 'none'}; "
                                f"pass contract=")
    if contract not in found:
        raise SolidityError(f"{shown} has no contract {contract!r}; "
                            f"it has: {', '.join(found) or 'none'}")
    c = found[contract]
    code = c["evm"]["bytecode"]["object"]
    if not code:
        raise SolidityError(f"{shown}: {contract} is abstract or an interface (no bytecode)")
    if "__$" in code:
        raise SolidityError(f"{shown}: {contract} needs linking to external libraries "
                            f"(not supported: make the library functions internal)")
    return Artifact(contract, c["abi"], bytes.fromhex(code), "solc", version,
                    str(path) if path is not None else shown)


def main(argv: list[str] | None = None) -> int:
    """Install solc-js and OpenZeppelin (``make evm-artifacts``); exit 1 on failure."""
    ok = True
    for package, version in (("solc", SOLC_VERSION),
                             ("@openzeppelin/contracts", OPENZEPPELIN_VERSION)):
        try:
            print(f"{package}@{version}: {install_package(package, version)}")
        except ArtifactError as exc:
            print(f"error: {exc}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
