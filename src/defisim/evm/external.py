"""The external EVM backend: a local anvil node (Foundry), started and stopped by defisim,
driven over raw batched JSON-RPC.

- :func:`anvil_binary`: the ``anvil`` executable of the npm package
  ``@foundry-rs/anvil-linux-amd64`` (:data:`ANVIL_VERSION`, pinned; MIT/Apache-2.0),
  installed once into the npm cache of :mod:`defisim.evm.artifacts`
  (``$DEFISIM_ANVIL`` names another binary);
- :class:`AnvilNode`: one anvil process on ``127.0.0.1`` and a free port, with
  deterministic settings (chain id 31337, the Prague hardfork, genesis timestamp, gas price and base
  fee 0, no accounts, every sender unlocked by ``--auto-impersonate``, FIFO ordering of
  the pending pool); stopped by :meth:`AnvilNode.stop`, a ``with`` block, garbage
  collection or interpreter exit (its own process group, SIGTERM then SIGKILL);
- :class:`RpcClient`: JSON-RPC over ``http.client`` (one kept-alive connection), a call
  or a **batch** (a list of calls in one HTTP request);
- :class:`ExternalBackend`: the :class:`~defisim.evm.backend.EvmBackend` on that node.

How a transaction runs (two HTTP requests): an ``eth_call`` at the latest state with the
block overrides of the block it will be mined in (its output, or its revert reason:
then nothing is sent and nothing changes), batched with ``evm_setNextBlockTimestamp``;
then ``eth_sendTransactionSync`` (auto-mining: one anvil block per transaction), whose
receipt carries the logs. Unlike the embedded backend, the events are **every log** of
the transaction, of every contract, in emission order, decoded with the ABI of the
emitting address when known, else of any ABI seen with that event signature (an
unknown log is ``("0x<topic0>", (address, topics, data))``).

:meth:`ExternalBackend.transact_batch` sends many transactions of one block in one HTTP
request with mining paused, mines them in one block, and reads all receipts in one
request (outputs are not returned; reverts carry their reason, from a trace).

Speed (``benchmarks/bench_evm.py``, 2,000 operations): about 350 ERC-20 transfers/s
and 100 V2 swaps/s one transaction per call, 4,400 and 1,100/s batched 100 per block;
anvil's cost of mining a block grows with the number of blocks already mined (about
0.7 ms at first, 3 ms after 1,500; ``--prune-history`` only slows the growth), so
batching a chain block's transactions into one anvil block is what scales.

Limits: ``block.timestamp`` is the chain's, but ``block.number`` inside a contract is
anvil's own (one block per transaction; :attr:`ExternalBackend.block` reports the
chain's); anvil snapshot ids are single-use and a revert drops later snapshots, so
:meth:`ExternalBackend.restore` re-snapshots (restorable again) but a snapshot taken
after the restored one is gone (an :class:`EvmError`); a backend cannot be forked
(``copy.deepcopy``, ``Simulation.snapshot``). Imports the standard library, and
``eth_abi`` (the ``evm`` extra) on first use.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defisim.extras import require

from .abi import AbiEvent, ContractAbi, EvmError, _canon, _signed, keccak
from .artifacts import ArtifactError, install_package
from .backend import EvmBackend, EvmRevert, TxResult, _check_words

__all__ = [
    "ANVIL_VERSION",
    "AnvilNode",
    "EvmNodeError",
    "ExternalBackend",
    "RpcClient",
    "RpcError",
    "anvil_binary",
]

ANVIL_VERSION = "1.7.1"
"""The pinned version of the ``@foundry-rs/anvil-<platform>`` npm package."""
CHAIN_ID = 31337
TX_GAS = 16_000_000
"""Gas limit of every transaction (no estimation round trip)."""
BLOCK_GAS = 2**40
HARDFORK = "prague"
"""Pinned, so a newer anvil runs the same rules."""
START_TIMEOUT_S = 30.0


class EvmNodeError(EvmError):
    """The external node cannot be installed, started or reached (the message names
    what failed, with the last lines of anvil's stderr)."""


class RpcError(EvmError):
    """A JSON-RPC error answer: ``code``, ``message``, ``data``."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.method = method
        self.code = error.get("code")
        self.rpc_message = str(error.get("message", ""))
        self.data = error.get("data")
        super().__init__(f"{method}: {self.rpc_message} (code {self.code})")


# ------------------------------------------------------------------ the binary
def anvil_package() -> str:
    """The npm package holding anvil for this machine."""
    system = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system(), platform.system().lower())
    arch = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine())
    return f"@foundry-rs/anvil-{system}-{arch}"


def anvil_binary() -> Path:
    """The ``anvil`` executable: ``$DEFISIM_ANVIL``, else the pinned npm package's
    ``bin/anvil`` (installed into the cache on first use).

    Raises:
        EvmNodeError: npm cannot install the package, or it holds no ``bin/anvil``.
    """
    env = os.environ.get("DEFISIM_ANVIL")
    if env:
        if not os.access(env, os.X_OK):
            raise EvmNodeError(f"$DEFISIM_ANVIL={env} is not an executable file")
        return Path(env)
    package = anvil_package()
    try:
        root = install_package(package, ANVIL_VERSION)
    except ArtifactError as exc:
        raise EvmNodeError(f"cannot install anvil ({package}@{ANVIL_VERSION}): {exc}") from exc
    path = root / "bin" / "anvil"
    if not path.is_file():
        raise EvmNodeError(f"npm package {package}@{ANVIL_VERSION} has no bin/anvil ({path})")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def main(argv: list[str] | None = None) -> int:
    """Install anvil (``make evm-artifacts``); exit 1 on failure."""
    try:
        print(f"anvil: {anvil_binary()}")
        return 0
    except EvmNodeError as exc:
        print(f"error: {exc}")
        return 1


# ------------------------------------------------------------------ JSON-RPC
class RpcClient:
    """Raw JSON-RPC 2.0 over one HTTP/1.1 keep-alive connection."""

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None
        self._id = 0
        self.requests = 0
        """HTTP requests sent (a batch is one)."""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request("POST", "/", body, headers)
                data = self._conn.getresponse().read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self.close()
                if attempt:
                    raise EvmNodeError(f"JSON-RPC to {self.host}:{self.port} failed: {exc!r}") from exc
        self.requests += 1
        return json.loads(data)

    def call(self, method: str, *params: Any) -> Any:
        """One call: its result. Raises :class:`RpcError`."""
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: list[tuple[str, list[Any]]], errors: bool = False) -> list[Any]:
        """Calls ``(method, params)`` in one HTTP request; their results in order. An
        error answer raises :class:`RpcError`, or (``errors=True``) takes its place.
        The node may run the calls of a batch concurrently: batch independent calls."""
        if not calls:
            return []
        first = self._id
        self._id += len(calls)
        answers = self._post([{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
                              for i, (m, p) in enumerate(calls)])
        if isinstance(answers, dict):  # the whole batch was refused
            raise RpcError(calls[0][0], answers.get("error") or {"message": str(answers)})
        by_id = {a.get("id"): a for a in answers}
        out = []
        for i, (m, _) in enumerate(calls):
            a = by_id.get(first + i) or {"error": {"message": "no answer"}}
            if "error" in a:
                err = RpcError(m, a["error"])
                if not errors:
                    raise err
                out.append(err)
            else:
                out.append(a.get("result"))
        return out


# ------------------------------------------------------------------ the node
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(proc: subprocess.Popen, log: Any) -> None:
    """Stop the node's process group: SIGTERM, then SIGKILL after 5 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)
    try:
        log.close()
    except OSError:
        pass


_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for node in list(_LIVE):
        node.stop()


class AnvilNode:
    """A local anvil, listening on ``127.0.0.1:<port>`` (a free port).

    Args:
        timestamp: the genesis block's timestamp.
        binary: the anvil executable (default :func:`anvil_binary`).
        timeout: seconds to wait for the node to answer.
        extra_args: more anvil options.

    Raises:
        EvmNodeError: no binary, or the node exited or did not answer in time (the
            message ends with the last lines of its stderr).
    """

    def __init__(self, timestamp: int = 0, binary: str | Path | None = None,
                 timeout: float = START_TIMEOUT_S, extra_args: tuple[str, ...] = ()) -> None:
        self.binary = str(binary or anvil_binary())
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.args = [self.binary, "--host", self.host, "--port", str(self.port),
                     "--chain-id", str(CHAIN_ID), "--timestamp", str(timestamp),
                     "--gas-price", "0", "--base-fee", "0", "--gas-limit", str(BLOCK_GAS),
                     "--accounts", "0", "--auto-impersonate", "--order", "fifo",
                     "--disable-code-size-limit", "--hardfork", HARDFORK, *extra_args]
        self._log = tempfile.TemporaryFile(prefix="anvil-stderr-")
        try:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=self._log,
                                         start_new_session=True)
        except OSError as exc:
            self._log.close()
            raise EvmNodeError(f"cannot start anvil ({self.binary}): {exc}") from exc
        self._finalizer = weakref.finalize(self, _kill, self.proc, self._log)
        _LIVE.add(self)
        self.rpc = RpcClient(self.host, self.port)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                tail = self.stderr_tail()
                self.stop()
                raise EvmNodeError(f"anvil exited with code {self.proc.returncode} at start "
                                   f"({' '.join(self.args)}); stderr: {tail}")
            try:
                if int(self.rpc.call("eth_chainId"), 16) == CHAIN_ID:
                    break
            except (EvmError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                tail = self.stderr_tail()
                self.stop()
                raise EvmNodeError(f"anvil did not answer on {self.host}:{self.port} within "
                                   f"{timeout:g} s; stderr: {tail}")
            time.sleep(0.02)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self, lines: int = 10) -> str:
        """The last lines anvil wrote to stderr (or ``(none)``)."""
        try:
            self._log.seek(0)
            text = self._log.read().decode(errors="replace")
        except (OSError, ValueError):
            return "(unreadable)"
        tail = text.strip().splitlines()[-lines:]
        return " | ".join(tail) if tail else "(none)"

    def stop(self) -> None:
        """Stop the node (idempotent)."""
        self.rpc.close()
        self._finalizer()
        _LIVE.discard(self)

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"AnvilNode({self.host}:{self.port}, pid {self.pid}, running={self.running})"


# ------------------------------------------------------------------ the backend
_ERROR_SELECTOR = bytes.fromhex("08c379a0")
_PANIC_SELECTOR = bytes.fromhex("4e487b71")


def _hex(n: int) -> str:
    return hex(n)


def _bytes(h: str | None) -> bytes:
    return bytes.fromhex((h or "0x")[2:])


def revert_reason(data: bytes) -> str:
    """The revert string of ``Error(string)`` data, ``Panic(0x..)`` for a panic, the data
    in hex otherwise ("" for none)."""
    if data[:4] == _ERROR_SELECTOR:
        try:
            return require("evm", "eth_abi", feature="defisim.evm").decode(["string"], data[4:])[0]
        except Exception:  # noqa: BLE001 - malformed payload: show it raw
            pass
    if data[:4] == _PANIC_SELECTOR and len(data) == 36:
        return f"Panic(0x{int.from_bytes(data[4:], 'big'):02x})"
    return "0x" + data.hex() if data else ""


@dataclass
class _Snap:
    id: str
    number: int
    timestamp: int
    head: int


class ExternalBackend(EvmBackend):
    """The EVM of an anvil node this backend starts (or ``node``, one already started).

    Args:
        number: the first ``block.number`` (as reported by :attr:`block`).
        timestamp: the first ``block.timestamp`` (seconds; also anvil's genesis).
        node: an :class:`AnvilNode` to use (not stopped by :meth:`close`).

    Raises:
        EvmNodeError: anvil cannot be installed or started.
    """

    def __init__(self, number: int = 1, timestamp: int = 0, node: AnvilNode | None = None) -> None:
        self._eth_abi = require("evm", "eth_abi", feature="the external EVM backend")
        self._own = node is None
        self.node = node if node is not None else AnvilNode(timestamp)
        self.rpc = self.node.rpc
        self._number, self._timestamp = number, timestamp
        self._head = int(self.rpc.call("eth_blockNumber"), 16)  # anvil's latest block
        self._abis: dict[str, ContractAbi] = {}  # address -> ABI
        self._topics: dict[bytes, tuple[ContractAbi, AbiEvent]] = {}
        self._seen: set[int] = set()
        self._selectors: dict[tuple[int, str], bytes] = {}

    def close(self) -> None:
        """Stop the node if this backend started it."""
        if self._own:
            self.node.stop()

    def __enter__(self) -> ExternalBackend:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __deepcopy__(self, memo: dict) -> ExternalBackend:
        """A fork (``Simulation.snapshot``, ``copy.deepcopy``): a new anvil node started
        by the project, loaded with this node's state (``anvil_dumpState`` /
        ``anvil_loadState``: accounts, code, storage), stopped with the copy. Costs a
        node start (about a second); snapshots *within* a node are cheap
        (:meth:`snapshot`)."""
        dump = self.rpc.call("anvil_dumpState")
        new = ExternalBackend(self._number, self._timestamp)
        if not new.rpc.call("anvil_loadState", dump):
            new.close()
            raise EvmError("anvil refused the state of the node being forked (anvil_loadState)")
        new._head = int(new.rpc.call("eth_blockNumber"), 16)
        new._abis = dict(self._abis)
        new._topics = dict(self._topics)
        new._seen = set(self._seen)
        new._selectors = dict(self._selectors)
        memo[id(self)] = new
        return new

    def __getstate__(self) -> dict:
        raise EvmError("the external EVM backend cannot be pickled (a live anvil node); "
                       "use the embedded backend for RL sessions and worker processes")

    # -- ABIs --------------------------------------------------------------------------
    def _learn(self, abi: ContractAbi, address: str | None = None) -> None:
        if address is not None:
            self._abis.setdefault(address, abi)
        if id(abi) in self._seen:
            return
        self._seen.add(id(abi))
        for item in abi.abi:
            if item.get("type") == "event" and not item.get("anonymous"):
                sig = f"{item['name']}({','.join(_canon(p) for p in item.get('inputs', []))})"
                self._topics.setdefault(keccak(sig.encode()), (abi, abi.events[item["name"]]))

    def _calldata(self, abi: ContractAbi, fn: str, args: tuple[Any, ...]) -> tuple[Any, str]:
        f = abi.function(fn)
        abi.check_args(fn, f.input_types, tuple(args))
        key = (id(abi), fn)
        sel = self._selectors.get(key)
        if sel is None:
            sel = self._selectors[key] = keccak(f.signature.encode())[:4]
        return f, "0x" + (sel + self._eth_abi.encode(list(f.input_types), list(args))).hex()

    def _decode_outputs(self, f: Any, data: bytes) -> tuple[Any, ...]:
        if not f.outputs:
            return ()
        values = self._eth_abi.decode([_canon(p) for p in f.outputs], data)
        return tuple(_signed(p, v) for p, v in zip(f.outputs, values, strict=True))

    def decode_log(self, log: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """One receipt log as ``(event name, args in ABI order)``."""
        topics = [_bytes(t) for t in log.get("topics", [])]
        data = _bytes(log.get("data"))
        address = log.get("address", "").lower()
        hit = None
        if topics:
            own = self._abis.get(address)
            if own is not None:
                for ev in own.events.values():
                    sig = f"{ev.name}({','.join(_canon(p) for p in ev.inputs)})"
                    if keccak(sig.encode()) == topics[0]:
                        hit = (own, ev)
                        break
            hit = hit or self._topics.get(topics[0])
        if hit is None:
            return ("0x" + (topics[0].hex() if topics else ""), (address, tuple(topics), data))
        _, ev = hit
        indexed = [p for p in ev.inputs if p.get("indexed")]
        plain = [p for p in ev.inputs if not p.get("indexed")]
        try:
            dvals = iter(self._eth_abi.decode([_canon(p) for p in plain], data))
            tvals = iter(topics[1:])
            out = []
            for p in ev.inputs:
                if p.get("indexed"):
                    t = _canon(p)
                    word = next(tvals)
                    dynamic = t in ("string", "bytes") or t.endswith("]") or t.startswith("(")
                    out.append(word if dynamic else self._eth_abi.decode([t], word)[0])
                else:
                    out.append(next(dvals))
            del indexed
            return ev.name, tuple(_signed(p, v) for p, v in zip(ev.inputs, out, strict=True))
        except Exception:  # noqa: BLE001 - an ABI that does not fit the log: give it raw
            return ("0x" + topics[0].hex(), (address, tuple(topics), data))

    # -- execution ---------------------------------------------------------------------
    def _overrides(self) -> dict[str, str]:
        return {"time": _hex(self._timestamp), "number": _hex(self._head + 1)}

    def _tx(self, sender: str, to: str | None, data: str, value: int) -> dict[str, str]:
        tx = {"from": sender, "data": data, "value": _hex(value), "gas": _hex(TX_GAS),
              "gasPrice": "0x0"}
        if to is not None:
            tx["to"] = to
        return tx

    def _revert(self, what: str, err: RpcError) -> EvmRevert:
        data = err.data
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            reason = revert_reason(_bytes(data))
        else:
            msg = err.rpc_message
            reason = msg.split("execution reverted: ", 1)[1] if "execution reverted: " in msg else msg
        return EvmRevert(reason, 0, f"{what} reverted: {reason}")

    def _execute(self, what: str, tx: dict[str, str]) -> tuple[bytes, dict[str, Any]]:
        """Dry run (output or revert), then send and mine: (output, receipt)."""
        dry, clock = self.rpc.batch([("eth_call", [tx, "latest", {}, self._overrides()]),
                                     ("evm_setNextBlockTimestamp", [self._timestamp])], errors=True)
        if isinstance(clock, RpcError):  # e.g. a timestamp before anvil's latest block
            raise EvmError(f"{what}: cannot mine at timestamp {self._timestamp}: {clock}")
        if isinstance(dry, RpcError):
            if dry.code == 3 or "revert" in dry.rpc_message:
                raise self._revert(what, dry)
            raise EvmError(f"{what}: {dry}")
        try:
            receipt = self.rpc.call("eth_sendTransactionSync", tx)
        except RpcError as exc:
            raise EvmError(f"{what}: {exc}") from None
        self._head = int(receipt["blockNumber"], 16)
        if receipt.get("status") != "0x1":  # the dry run passed: should not happen
            raise EvmRevert("", int(receipt.get("gasUsed", "0x0"), 16),
                            f"{what} reverted when mined after a successful dry run")
        return _bytes(dry), receipt

    def deploy(self, sender: str, abi: ContractAbi, bytecode: bytes,
               args: tuple[Any, ...] = (), value: int = 0) -> str:
        abi.check_args("constructor", abi.constructor_types, tuple(args))
        data = "0x" + (bytecode + self._eth_abi.encode(list(abi.constructor_types), list(args))).hex()
        _, receipt = self._execute(f"deploying {abi.name}", self._tx(sender, None, data, value))
        address = receipt["contractAddress"].lower()
        self._learn(abi, address)
        return address

    def call(self, address: str, abi: ContractAbi, fn: str, args: tuple[Any, ...] = ()) -> tuple:
        f, data = self._calldata(abi, fn, args)
        self._learn(abi, address)
        try:
            raw = self.rpc.call("eth_call", {"to": address, "data": data, "gas": _hex(TX_GAS)},
                                "latest", {}, self._overrides())
        except RpcError as exc:
            if exc.code == 3 or "revert" in exc.rpc_message:
                raise self._revert(f"{abi.name}.{fn}", exc) from None
            raise EvmError(f"{abi.name}.{fn}: {exc}") from None
        out = _bytes(raw)
        if f.outputs and not out:
            raise EvmError(f"{abi.name}.{fn}: no contract code answered at {address} "
                           "(empty return data)")
        return self._decode_outputs(f, out)

    def transact(self, sender: str, address: str, abi: ContractAbi, fn: str,
                 args: tuple[Any, ...] = (), value: int = 0) -> TxResult:
        f, data = self._calldata(abi, fn, args)
        self._learn(abi, address)
        out, receipt = self._execute(f"{abi.name}.{fn}", self._tx(sender, address, data, value))
        events = tuple(self.decode_log(lg) for lg in receipt.get("logs", []))
        return TxResult(self._decode_outputs(f, out), events, int(receipt["gasUsed"], 16))

    def transact_batch(self, calls: list[tuple[str, str, ContractAbi, str, tuple, int]]
                       ) -> list[TxResult | EvmRevert]:
        """Many transactions ``(sender, address, abi, fn, args, value)`` in one block at
        the current timestamp: sent in one HTTP request with mining paused, mined once,
        receipts read in one request. Each result is a :class:`TxResult` (``output``
        empty) or the :class:`EvmRevert` of that transaction (later ones still run).

        Raises:
            UnknownFunction, TypeError: a bad call (nothing was sent).
            EvmError: the node refused a transaction, or mined them out of order.
        """
        txs = []
        for sender, address, abi, fn, args, value in calls:
            _, data = self._calldata(abi, fn, args)
            self._learn(abi, address)
            txs.append(self._tx(sender, address, data, value))
        if not txs:
            return []
        senders = sorted({t["from"] for t in txs})
        counts = self.rpc.batch([("eth_getTransactionCount", [s, "latest"]) for s in senders]
                                + [("evm_setAutomine", [False])])
        nonce = {s: int(c, 16) for s, c in zip(senders, counts, strict=False)}
        for t in txs:
            t["nonce"] = _hex(nonce[t["from"]])
            nonce[t["from"]] += 1
        try:
            hashes = self.rpc.batch([("eth_sendTransaction", [t]) for t in txs], errors=True)
            self.rpc.call("evm_mine", self._timestamp)
        finally:
            self.rpc.call("evm_setAutomine", True)
        bad = [h for h in hashes if isinstance(h, RpcError)]
        if bad:
            raise EvmError(f"transact_batch: the node refused a transaction: {bad[0]}")
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        results: list[TxResult | EvmRevert] = []
        failed = []
        for i, (rc, (_, _, abi, fn, _, _)) in enumerate(zip(receipts, calls, strict=True)):
            if rc is None or int(rc["transactionIndex"], 16) != i:
                raise EvmError(f"transact_batch: transaction {i} was not mined at index {i}")
            self._head = int(rc["blockNumber"], 16)
            gas = int(rc["gasUsed"], 16)
            if rc.get("status") == "0x1":
                events = tuple(self.decode_log(lg) for lg in rc.get("logs", []))
                results.append(TxResult((), events, gas))
            else:
                failed.append(i)
                results.append(EvmRevert("", gas, f"{abi.name}.{fn} reverted"))
        if failed:
            traces = self.rpc.batch([("debug_traceTransaction", [hashes[i], {"tracer": "callTracer"}])
                                     for i in failed], errors=True)
            for i, tr in zip(failed, traces, strict=True):
                out = _bytes(tr.get("output")) if isinstance(tr, dict) else b""
                reason = revert_reason(out) if out else (tr.get("error", "") if isinstance(tr, dict) else "")
                _, _, abi, fn, _, _ = calls[i]
                results[i] = EvmRevert(reason, results[i].gas_used, f"{abi.name}.{fn} reverted: {reason}")
        return results

    # -- state -----------------------------------------------------------------------
    def snapshot(self) -> Any:
        return _Snap(self.rpc.call("evm_snapshot"), self._number, self._timestamp, self._head)

    def restore(self, state: Any) -> None:
        if not self.rpc.call("evm_revert", state.id):
            raise EvmError(f"anvil snapshot {state.id} is gone (restoring an earlier snapshot "
                           "drops the later ones)")
        state.id = self.rpc.call("evm_snapshot")  # anvil's ids are single-use
        self._number, self._timestamp, self._head = state.number, state.timestamp, state.head

    def set_block(self, number: int, timestamp: int) -> None:
        self._number, self._timestamp = number, timestamp

    @property
    def block(self) -> tuple[int, int]:
        return self._number, self._timestamp

    def fund(self, address: str, wei: int) -> None:
        self.rpc.call("anvil_setBalance", address, _hex(wei))

    def set_storage(self, address: str, slots: dict[int, int]) -> None:
        _check_words(slots)
        self.rpc.batch([("anvil_setStorageAt", [address, _hex(k), "0x" + f"{v:064x}"])
                        for k, v in slots.items()])

    def balance(self, address: str) -> int:
        return int(self.rpc.call("eth_getBalance", address, "latest"), 16)
