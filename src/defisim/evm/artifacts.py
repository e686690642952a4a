"""Compiled contracts (ABI + bytecode) from published npm packages, fetched at set-up time.

defisim vendors no contract source and no bytecode: the Uniswap V2 core and periphery
packages ship their compiled artifacts (``build/<Contract>.json``), Ocean Protocol's
contracts (its Balancer V1 ``BPool``, ``BFactory``) ship Truffle artifacts
(``artifacts/<Contract>.json``), the Uniswap V3 core Hardhat artifacts
(``artifacts/contracts/<Contract>.sol/<Contract>.json``; :data:`ARTIFACT_LAYOUTS`), and
:func:`load_artifact` installs the package once with ``npm install --prefix <cache>
--no-save <package>@<version>`` (pinned versions, :data:`PINNED`) and reads the JSON.

The cache is ``$DEFISIM_CACHE_DIR/npm``, else ``$XDG_CACHE_HOME/defisim/npm``, else
``~/.cache/defisim/npm``; one folder per ``package@version``, filled in a temporary
folder and renamed, so an interrupted install leaves nothing half-made. Outside the
repository: git never sees it.

Errors: :class:`NpmUnavailable` (npm missing, or the install failed: offline, no
registry) and :class:`ArtifactError` (the package has no such contract) each carry one
message naming the package and the file. :func:`main` installs
every pinned package (``make evm-artifacts``). Imports nothing outside the standard
library.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ARTIFACT_LAYOUTS",
    "PINNED",
    "Artifact",
    "ArtifactError",
    "NpmUnavailable",
    "cache_dir",
    "install_package",
    "load_artifact",
]

PINNED: dict[str, str] = {
    "@uniswap/v2-core": "1.0.1",
    "@uniswap/v2-periphery": "1.1.0-beta.0",
    "@oceanprotocol/contracts": "0.5.16",
    "@uniswap/v3-core": "1.0.1",
}
"""The npm packages defisim loads contracts from, and their versions (contracts under
their own licences -- Uniswap V2 GPL-3.0-or-later, Ocean Apache-2.0 -- fetched by the user
at set-up time, never redistributed with defisim). ``@oceanprotocol/contracts@0.5.16``
is the Ocean V3 Balancer ``BPool``/``BFactory`` (solc 0.5.7) TokenSPICE ran.
``@uniswap/v3-core@1.0.1`` is BUSL-1.1, whose change date (2023-04-01) has passed, so it
is now GPL-2.0-or-later (its ``LICENSE``); the user fetches it at set-up time too."""

ARTIFACT_LAYOUTS: tuple[str, ...] = (
    "build/{contract}.json",      # Uniswap V2 (Waffle)
    "artifacts/{contract}.json",  # Ocean Protocol 0.5.x (Truffle)
    "artifacts/contracts/{contract}.sol/{contract}.json",  # Uniswap V3 core (Hardhat)
)
"""Where a package keeps ``<contract>``'s compiled JSON, relative to its folder, tried
in this order (the first that exists wins)."""

NPM_TIMEOUT_S = 300


class ArtifactError(RuntimeError):
    """A contract artifact cannot be found or read (the message names package and file)."""


class NpmUnavailable(ArtifactError):
    """npm is not installed, or ``npm install`` failed (offline, registry unreachable)."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: ``abi`` (the JSON ABI list), ``bytecode`` (creation code,
    without constructor arguments), where it came from (``package``, ``version``, ``path``)."""

    name: str
    abi: list[dict[str, Any]] = field(repr=False)
    bytecode: bytes = field(repr=False)
    package: str = ""
    version: str = ""
    path: str = ""


def cache_dir() -> Path:
    """The folder holding the installed npm packages (created on first install)."""
    root = os.environ.get("DEFISIM_CACHE_DIR")
    if root:
        return Path(root) / "npm"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "defisim" / "npm"


def _prefix(package: str, version: str) -> Path:
    return cache_dir() / f"{package.replace('/', '+')}@{version}"


def _package_root(prefix: Path, package: str) -> Path:
    return prefix / "node_modules" / package


def install_package(package: str, version: str | None = None) -> Path:
    """Install ``package@version`` (default: the :data:`PINNED` version) into the cache
    once and return the package's folder (``.../node_modules/<package>``).

    Raises:
        NpmUnavailable: npm is not on ``PATH`` or the install failed (its output's tail
            is in the message).
        ArtifactError: no version given and the package is not pinned.
    """
    if version is None:
        if package not in PINNED:
            raise ArtifactError(f"no pinned version of npm package {package!r}; "
                                f"pinned: {sorted(PINNED)}")
        version = PINNED[package]
    prefix = _prefix(package, version)
    root = _package_root(prefix, package)
    if (root / "package.json").is_file():
        return root
    npm = shutil.which("npm")
    if npm is None:
        raise NpmUnavailable(f"npm is not on PATH: cannot install {package}@{version} "
                             f"(install Node.js/npm, or run `make evm-artifacts` where npm is)")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=prefix.parent))
    try:
        cmd = [npm, "install", "--prefix", str(tmp), "--no-save", "--no-audit", "--no-fund",
               "--ignore-scripts", "--loglevel=error", f"{package}@{version}"]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise NpmUnavailable(f"npm install {package}@{version} took over "
                                 f"{NPM_TIMEOUT_S} s (registry unreachable?)") from exc
        if res.returncode != 0 or not (_package_root(tmp, package) / "package.json").is_file():
            tail = " ".join((res.stderr or res.stdout).split())[-400:]
            raise NpmUnavailable(f"npm install {package}@{version} failed "
                                 f"(exit {res.returncode}): {tail}")
        try:
            tmp.rename(prefix)
        except OSError:  # another process installed it meanwhile
            if not (root / "package.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _artifact_path(root: Path, contract: str) -> Path | None:
    for layout in ARTIFACT_LAYOUTS:
        path = root / layout.format(contract=contract)
        if path.is_file():
            return path
    return None


def _contracts_in(root: Path) -> list[str]:
    have: set[str] = set()
    for layout in ARTIFACT_LAYOUTS:
        have.update(p.stem for p in root.glob(layout.format(contract="*"))
                    if not p.name.endswith(".dbg.json"))  # Hardhat's debug files
    return sorted(have)


def load_artifact(package: str, contract: str, version: str | None = None) -> Artifact:
    """The compiled ``contract`` of npm ``package`` (its JSON at the first of
    :data:`ARTIFACT_LAYOUTS` that exists, e.g. ``build/<contract>.json``), installing the
    package first if needed (:func:`install_package`). Reads Waffle/solc
    (``evm.bytecode.object``) and Truffle (``bytecode``) JSON.

    Raises:
        NpmUnavailable: see :func:`install_package`.
        ArtifactError: the package has no such artifact (the message lists the
            contracts it has), or the file has no ABI or no bytecode.
    """
    root = install_package(package, version)
    version = version or PINNED.get(package, "")
    path = _artifact_path(root, contract)
    if path is None:
        have = _contracts_in(root)
        where = " or ".join(layout.format(contract=contract) for layout in ARTIFACT_LAYOUTS)
        raise ArtifactError(f"npm package {package}@{version} has no artifact {contract}.json "
                            f"({where} in {root}); it has: "
                            f"{', '.join(have) or 'no compiled contracts'}")
    try:
        data = json.loads(path.read_text())
        abi = data["abi"]
        code = data.get("evm", {}).get("bytecode", {}).get("object") or data.get("bytecode", "")
        bytecode = bytes.fromhex(code.removeprefix("0x"))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"cannot read {path} of {package}@{version}: {exc!r}") from exc
    if not isinstance(abi, list):
        raise ArtifactError(f"{path} of {package}@{version} has no ABI list")
    return Artifact(contract, abi, bytecode, package, version, str(path))


def main(argv: list[str] | None = None) -> int:
    """Install every pinned package (``make evm-artifacts``); exit 1 on failure."""
    ok = True
    for package, version in PINNED.items():
        try:
            root = install_package(package, version)
            print(f"{package}@{version}: {root}")
        except ArtifactError as exc:
            print(f"error: {exc}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
