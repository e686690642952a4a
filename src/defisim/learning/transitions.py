"""Transition datasets: SARSA tuples recorded to self-describing Parquet files.

One row per environment step, columns (``D`` = observation dimension)::

    episode      int32                    episode index
    step         int32                    step within the episode (0-based)
    obs          fixed_size_list<float32>[D]  observation s_t
    action       int64                    action a_t in [0, n)
    reward       float64                  reward r_{t+1}
    next_obs     fixed_size_list<float32>[D]  observation s_{t+1}
    next_action  int64                    a_{t+1} drawn by the same policy in s_{t+1}; -1 when done
    done         bool                     terminated (no bootstrapping from s_{t+1})
    truncated    bool                     cut off (time limit): s_{t+1} still has a value
    <extra>      float64                  optional per-row numbers (e.g. pnl, position)

The Parquet schema metadata key ``defisim.transitions`` holds JSON with
``format_version``, ``observation_names``, ``observation_dim``, ``n_actions``,
``action_names`` (or null), ``extra_columns`` and the caller's ``metadata``
(scenario, seed, iteration, ...), so a file is self-describing
(:func:`read_transitions` returns it as :class:`TransitionSchema`).

In Python the columns are named in full: ``obs`` -> ``observation``, ``next_obs``
-> ``next_observation`` (:class:`TransitionBatch`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from .rollout import (
    EpisodeStats,
    Policy,
    check_action,
    check_observation,
    check_spaces,
    info_float,
    run_episode,
)

METADATA_KEY = b"defisim.transitions"
FORMAT_VERSION = 1
BASE_COLUMNS = (
    "episode",
    "step",
    "obs",
    "action",
    "reward",
    "next_obs",
    "next_action",
    "done",
    "truncated",
)


def transition_schema(dim: int, extra_columns: Sequence[str] = ()) -> pa.Schema:
    """The Arrow schema of a transition file with observation dimension ``dim``."""
    obs_t = pa.list_(pa.float32(), dim)
    fields = [
        pa.field("episode", pa.int32(), nullable=False),
        pa.field("step", pa.int32(), nullable=False),
        pa.field("obs", obs_t, nullable=False),
        pa.field("action", pa.int64(), nullable=False),
        pa.field("reward", pa.float64(), nullable=False),
        pa.field("next_obs", obs_t, nullable=False),
        pa.field("next_action", pa.int64(), nullable=False),
        pa.field("done", pa.bool_(), nullable=False),
        pa.field("truncated", pa.bool_(), nullable=False),
    ]
    fields += [pa.field(c, pa.float64()) for c in extra_columns]
    return pa.schema(fields)


@dataclass(frozen=True)
class TransitionSchema:
    """What a transition file describes about itself (its schema metadata).

    Attributes:
        observation_names: ``D`` names, one per observation component.
        n_actions: number of discrete actions ``n``.
        action_names: ``n`` names, or ``None``.
        extra_columns: names of the extra float64 columns.
        metadata: the caller's JSON metadata (for several files: the first's).
        files: the files read (empty for a writer).
    """

    observation_names: tuple[str, ...]
    n_actions: int
    action_names: tuple[str, ...] | None = None
    extra_columns: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    @property
    def observation_dim(self) -> int:
        """The observation dimension ``D``."""
        return len(self.observation_names)

    def to_json(self) -> str:
        """The JSON stored under :data:`METADATA_KEY`."""
        return json.dumps(
            {
                "format_version": FORMAT_VERSION,
                "observation_names": list(self.observation_names),
                "observation_dim": self.observation_dim,
                "n_actions": self.n_actions,
                "action_names": None if self.action_names is None else list(self.action_names),
                "extra_columns": list(self.extra_columns),
                "metadata": self.metadata,
            },
            sort_keys=True,
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes, file: str = "") -> TransitionSchema:
        """Parse the JSON of :meth:`to_json` (``file`` names it in errors).

        Raises:
            ValueError: not valid JSON or a newer format version.
        """
        try:
            d = json.loads(text)
            version = int(d["format_version"])
            if version > FORMAT_VERSION:
                raise ValueError(f"format version {version} is newer than {FORMAT_VERSION}")
            return cls(
                observation_names=tuple(d["observation_names"]),
                n_actions=int(d["n_actions"]),
                action_names=None if d["action_names"] is None else tuple(d["action_names"]),
                extra_columns=tuple(d["extra_columns"]),
                metadata=dict(d["metadata"]),
                files=(file,) if file else (),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise ValueError(f"{file or 'transition file'}: bad transition metadata ({e})") from e


class TransitionWriter:
    """Buffered writer of SARSA transitions to one Parquet file (a context manager).

    Rows go to ``<path>.partial`` in row groups of ``buffer_rows``; :meth:`close`
    (or leaving the ``with`` block normally) renames it to ``path``, so ``path``
    only ever holds a complete file. Leaving the block on an exception deletes the
    partial file.

    Args:
        path: the Parquet file to write (parent folders are created).
        observation_names: one name per observation component (``D`` names).
        n_actions: number of discrete actions; actions must be in ``[0, n_actions)``.
        metadata: JSON-serialisable facts stored with the schema (scenario, seed, ...).
        action_names: optional ``n_actions`` names (e.g. ``["hold", "buy", "sell"]``).
        extra_columns: names of extra float64 columns given per row to :meth:`write`.
        buffer_rows: rows per Parquet row group.

    Raises:
        ValueError: empty or duplicate names, ``n_actions < 1``, metadata not JSON,
            an extra column named like a base column.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        observation_names: Sequence[str],
        n_actions: int,
        metadata: Mapping[str, Any] | None = None,
        *,
        action_names: Sequence[str] | None = None,
        extra_columns: Sequence[str] = (),
        buffer_rows: int = 65536,
    ) -> None:
        names = tuple(str(n) for n in observation_names)
        if not names:
            raise ValueError("observation_names must not be empty")
        if len(set(names)) != len(names):
            raise ValueError(f"observation_names must be unique, got {list(names)}")
        if int(n_actions) < 1:
            raise ValueError(f"n_actions must be >= 1, got {n_actions}")
        if action_names is not None and len(action_names) != n_actions:
            raise ValueError(f"action_names must have {n_actions} names, got {len(action_names)}")
        extras = tuple(str(c) for c in extra_columns)
        bad = [c for c in extras if c in BASE_COLUMNS]
        if bad or len(set(extras)) != len(extras):
            raise ValueError(
                f"extra_columns must be unique and not base columns, got {list(extras)}"
            )
        if buffer_rows < 1:
            raise ValueError(f"buffer_rows must be >= 1, got {buffer_rows}")
        self.info = TransitionSchema(
            observation_names=names,
            n_actions=int(n_actions),
            action_names=None if action_names is None else tuple(str(a) for a in action_names),
            extra_columns=extras,
            metadata=dict(metadata or {}),
        )
        try:
            meta_json = self.info.to_json()
        except (TypeError, ValueError) as e:
            raise ValueError(f"metadata must be JSON-serialisable: {e}") from e
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.schema = transition_schema(len(names), extras).with_metadata({METADATA_KEY: meta_json})
        self.buffer_rows = int(buffer_rows)
        self.rows_written = 0
        self._buf: dict[str, list] = {c: [] for c in (*BASE_COLUMNS, *extras)}
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    @property
    def dim(self) -> int:
        """The observation dimension ``D``."""
        return self.info.observation_dim

    def write(
        self,
        episode: int,
        step: int,
        observation: np.ndarray,
        action: int,
        reward: float,
        next_observation: np.ndarray,
        next_action: int,
        terminated: bool,
        truncated: bool = False,
        extras: Mapping[str, float] | None = None,
    ) -> None:
        """Buffer one transition (s_t, a_t, r_{t+1}, s_{t+1}, a_{t+1}, done).

        ``observation``/``next_observation``: shape ``(D,)``, finite. ``next_action``:
        in ``[0, n)``, or -1, which it must be when ``terminated`` and may be when
        ``truncated``. ``extras``: values of the declared extra columns (missing ones
        are stored as NaN).

        Raises:
            ValueError: wrong observation shape or non-finite values, an action out
                of range, a non-finite reward, an undeclared extra column.
            RuntimeError: the writer is closed.
        """
        if self._closed:
            raise RuntimeError(f"TransitionWriter for {self.path} is closed")
        n = self.info.n_actions
        obs = check_observation(observation, self.dim, "observation")
        nobs = check_observation(next_observation, self.dim, "next_observation")
        a = check_action(action, n, "action")
        if terminated:
            if next_action != -1:
                raise ValueError(f"next_action must be -1 when terminated, got {next_action!r}")
            na = -1
        elif truncated and next_action == -1:
            na = -1
        else:
            na = check_action(next_action, n, "next_action")
        r = float(reward)
        if not math.isfinite(r):
            raise ValueError(f"reward must be finite, got {reward!r}")
        extras = dict(extras or {})
        unknown = sorted(set(extras) - set(self.info.extra_columns))
        if unknown:
            raise ValueError(
                f"extra columns {unknown} were not declared (declared: {list(self.info.extra_columns)})"
            )
        b = self._buf
        b["episode"].append(int(episode))
        b["step"].append(int(step))
        b["obs"].append(obs)
        b["action"].append(a)
        b["reward"].append(r)
        b["next_obs"].append(nobs)
        b["next_action"].append(na)
        b["done"].append(bool(terminated))
        b["truncated"].append(bool(truncated))
        for c in self.info.extra_columns:
            v = extras.get(c)
            b[c].append(math.nan if v is None else float(v))
        if len(b["episode"]) >= self.buffer_rows:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one row group."""
        b = self._buf
        if not b["episode"]:
            return
        d = self.dim

        def obs_array(rows: list[np.ndarray]) -> pa.Array:
            flat = np.stack(rows).astype(np.float32, copy=False).reshape(-1)
            return pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), d)

        arrays = [
            pa.array(b["episode"], pa.int32()),
            pa.array(b["step"], pa.int32()),
            obs_array(b["obs"]),
            pa.array(b["action"], pa.int64()),
            pa.array(b["reward"], pa.float64()),
            obs_array(b["next_obs"]),
            pa.array(b["next_action"], pa.int64()),
            pa.array(b["done"], pa.bool_()),
            pa.array(b["truncated"], pa.bool_()),
        ] + [pa.array(b[c], pa.float64()) for c in self.info.extra_columns]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.partial, self.schema)
        self._writer.write_table(table)
        self.rows_written += table.num_rows
        for v in b.values():
            v.clear()

    def close(self) -> None:
        """Flush, finish the file and move it to ``path`` (an empty file if no rows)."""
        if self._closed:
            return
        self.flush()
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.partial, self.schema)
        self._writer.close()
        os.replace(self.partial, self.path)
        self._closed = True

    def abort(self) -> None:
        """Drop the buffered rows and delete the partial file; ``path`` is untouched."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.close()
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> TransitionWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_transitions(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
) -> tuple[pa.Table, TransitionSchema]:
    """Read one or several transition files into one table (rows in file order).

    Several files must agree on observation names, number of actions and extra
    columns; the returned :class:`TransitionSchema` carries the first file's
    ``metadata`` and all the file names in ``files``.

    Raises:
        FileNotFoundError: a file does not exist.
        ValueError: no paths, a file without transition metadata, files that disagree.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("read_transitions needs at least one path")
    tables, info = [], None
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"transition file not found: {p}")
        table = pq.read_table(p)
        meta = table.schema.metadata or {}
        if METADATA_KEY not in meta:
            raise ValueError(f"{p} is not a transition file (no {METADATA_KEY.decode()} metadata)")
        this = TransitionSchema.from_json(meta[METADATA_KEY], str(p))
        if info is None:
            info = this
        else:
            for attr in ("observation_names", "n_actions", "extra_columns"):
                if getattr(this, attr) != getattr(info, attr):
                    raise ValueError(
                        f"{p}: {attr} {getattr(this, attr)} differs from {info.files[0]}'s "
                        f"{getattr(info, attr)}"
                    )
            info = TransitionSchema(
                info.observation_names,
                info.n_actions,
                info.action_names,
                info.extra_columns,
                info.metadata,
                info.files + (str(p),),
            )
        tables.append(table.replace_schema_metadata(None))
    assert info is not None
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return table.replace_schema_metadata({METADATA_KEY: info.to_json()}), info


class TransitionBatch(NamedTuple):
    """A batch of ``B`` transitions as torch tensors.

    observation: float32 ``[B, D]``; action: int64 ``[B]``; reward: float32 ``[B]``;
    next_observation: float32 ``[B, D]``; next_action: int64 ``[B]`` (-1 when done);
    done: float32 ``[B]`` (1.0 when terminated, else 0.0).
    """

    observation: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_observation: torch.Tensor
    next_action: torch.Tensor
    done: torch.Tensor

    @property
    def size(self) -> int:
        """The number of transitions ``B`` (``len()`` is the number of fields)."""
        return int(self.action.shape[0])

    def index(self, idx: torch.Tensor) -> TransitionBatch:
        """The rows ``idx`` (a long tensor) of every field."""
        return TransitionBatch(*(t[idx] for t in self))


def _fixed_list_to_numpy(col: pa.ChunkedArray, dim: int) -> np.ndarray:
    arr = col.combine_chunks()
    if isinstance(arr, pa.ChunkedArray):  # empty table
        arr = pa.array([], type=col.type)
    flat = arr.flatten().to_numpy(zero_copy_only=False)
    return np.array(flat, dtype=np.float32, copy=True).reshape(-1, dim)


class TransitionDataset(torch.utils.data.Dataset):
    """Transitions loaded into contiguous torch tensors (a map-style ``Dataset``).

    Args:
        source: a transition file, a list of them, or a ``(table, schema)`` pair
            from :func:`read_transitions`.

    Attributes:
        schema: the :class:`TransitionSchema`.
        batch: the whole dataset as a :class:`TransitionBatch` (``N`` rows).
        episode, step: int64 ``[N]``.
        truncated: bool ``[N]``.
        extras: extra columns, name -> float64 ``[N]``.

    ``dataset[i]`` gives one row as a :class:`TransitionBatch` of 0-d/1-d tensors;
    for training use :meth:`minibatches` (indexing whole tensors), which is orders of
    magnitude faster than a ``DataLoader`` over items.

    Raises:
        FileNotFoundError / ValueError: as :func:`read_transitions`.
    """

    def __init__(
        self,
        source: str | os.PathLike | Sequence[str | os.PathLike] | tuple[pa.Table, TransitionSchema],
    ) -> None:
        if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], pa.Table):
            table, schema = source
        else:
            table, schema = read_transitions(source)  # type: ignore[arg-type]
        self.schema: TransitionSchema = schema
        d = schema.observation_dim

        def np_col(name: str, dtype) -> np.ndarray:
            return np.array(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)

        self.batch = TransitionBatch(
            observation=torch.from_numpy(_fixed_list_to_numpy(table.column("obs"), d)),
            action=torch.from_numpy(np_col("action", np.int64)),
            reward=torch.from_numpy(np_col("reward", np.float32)),
            next_observation=torch.from_numpy(_fixed_list_to_numpy(table.column("next_obs"), d)),
            next_action=torch.from_numpy(np_col("next_action", np.int64)),
            done=torch.from_numpy(np_col("done", np.float32)),
        )
        self.episode = torch.from_numpy(np_col("episode", np.int64))
        self.step = torch.from_numpy(np_col("step", np.int64))
        self.truncated = torch.from_numpy(np_col("truncated", np.bool_))
        self.extras = {c: torch.from_numpy(np_col(c, np.float64)) for c in schema.extra_columns}

    def __len__(self) -> int:
        return self.batch.size

    def __getitem__(self, i: int) -> TransitionBatch:
        return TransitionBatch(*(t[i] for t in self.batch))

    def tensors(self) -> TransitionBatch:
        """The whole dataset as one :class:`TransitionBatch` (no copy)."""
        return self.batch

    def minibatches(
        self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False
    ) -> Iterator[TransitionBatch]:
        """One epoch: the rows in a random permutation (``torch.randperm`` with
        ``generator``), in batches of ``batch_size`` (the last one smaller unless
        ``drop_last``).

        Raises:
            ValueError: ``batch_size < 1``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n = len(self)
        perm = torch.randperm(n, generator=generator)
        stop = n - n % batch_size if drop_last else n
        for i in range(0, stop, batch_size):
            yield self.batch.index(perm[i : i + batch_size])


def collect_transitions(
    env: gym.Env,
    policy: Policy,
    episodes: int,
    seed: int,
    writer: TransitionWriter | None = None,
    *,
    episode_offset: int = 0,
    max_steps: int | None = None,
) -> EpisodeStats:
    """Run ``episodes`` episodes of ``policy`` in ``env``, writing SARSA tuples.

    Episode ``k`` (0-based) starts with ``env.reset(seed=seed + k)``, the policy
    draws from ``np.random.default_rng([seed, k])`` and its rows carry
    ``episode = episode_offset + k``. The next action is drawn in the next
    observation before the row is written (so ``next_action`` of row ``t`` is the
    ``action`` of row ``t+1``); -1 on termination. The writer's extra columns are
    filled from the step's ``info`` (NaN where absent).

    Args:
        env: Gymnasium env, 1-D ``Box`` observations, ``Discrete(n)`` actions.
        policy: ``(observation, rng) -> action`` or an object with ``.act(observation, rng)``.
        episodes: number of episodes (>= 1).
        seed: base seed (>= 0).
        writer: where the rows go (None: statistics only).
        episode_offset: added to the episode index in the rows.
        max_steps: truncate episodes after this many steps.

    Returns:
        :class:`EpisodeStats` (per-episode total reward, final ``info["pnl"]``, length).

    Raises:
        ValueError: bad spaces, ``episodes < 1``, a writer of another observation
            dimension or number of actions, bad observations or actions.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    dim, n = check_spaces(env)
    if writer is not None and (writer.dim != dim or writer.info.n_actions != n):
        raise ValueError(
            f"writer is for observation dimension {writer.dim} and {writer.info.n_actions} "
            f"actions, env has {dim} and {n}"
        )
    rewards, pnls, lengths = [], [], []
    extras = writer.info.extra_columns if writer is not None else ()
    for k in range(episodes):
        total, length, pnl = 0.0, 0, math.nan
        for s in run_episode(env, policy, seed, k, max_steps):
            total += s.reward
            length += 1
            pnl = info_float(s.info, "pnl")
            if writer is not None:
                writer.write(
                    episode_offset + k,
                    s.step,
                    s.observation,
                    s.action,
                    s.reward,
                    s.next_observation,
                    s.next_action,
                    s.terminated,
                    s.truncated,
                    {c: info_float(s.info, c) for c in extras},
                )
        rewards.append(total)
        pnls.append(pnl)
        lengths.append(length)
    return EpisodeStats(np.array(rewards), np.array(pnls), np.array(lengths, dtype=np.int64))
