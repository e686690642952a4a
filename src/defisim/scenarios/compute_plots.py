"""The figures of ``compute_marketplace`` (spec 7; issue: "plots of negotiation paths,
utilisation and agent returns"), drawn into the run folder by its ``after_run``.

Each figure has a function computing the series it draws (tested against the run's
records) and one drawing them on its own Agg canvas (no pyplot state):

- ``negotiation_paths.png`` (:func:`path_series`, :func:`median_paths`): the price of
  every price message of a topic by message index ``seq`` (0 the request, odd the
  provider's, even the client's; round = ceil(seq/2)), divided by the job class's
  reference cost c_ref (spec 3) so classes share a scale; one panel per class, a
  sample of topics as thin lines, the median path of the topics that reached a deal
  and of those that did not in bold.
- ``utilisation.png`` (:func:`utilisation_series`): the ``utilisation.*`` KPIs per
  step as recorded in the run store (spec 7.2), market-wide per resource and cpu by
  region.
- ``agent_returns.png`` (:func:`return_series`): each agent's cumulative return
  ``W_t / W_0 - 1`` from its W_t samples (spec 7.1), coloured by role, the role means
  in bold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["ROLE_COLORS", "draw_agent_returns", "draw_negotiation_paths", "draw_utilisation",
           "median_paths", "path_series", "return_series", "utilisation_series"]

ROLE_COLORS = {"client": "tab:blue", "provider": "tab:orange", "mediator": "tab:green"}
OUTCOME_COLORS = {True: "tab:green", False: "tab:red"}
MAX_TOPICS_DRAWN = 40
"""Topics drawn as thin lines per class (every k-th topic by name beyond that)."""


def _figure(rows: int, cols: int, width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes.ravel()


# -- negotiation paths -------------------------------------------------------------------
def path_series(paths: Iterable[tuple[str, int, str, float]], topic_class: Mapping[str, str],
                c_ref: Mapping[str, float], agreed: Iterable[str]
                ) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray, tuple[str, ...], bool]]]:
    """Per job class, per topic: ``(seq, price / c_ref, senders, agreed)``.

    Args:
        paths: ``(topic, seq, sender role, price USD)`` rows
            (``ComputeMarketplace.negotiation_paths``).
        topic_class: topic -> job class; topics without one are skipped.
        c_ref: job class -> reference cost, USD (> 0).
        agreed: the topics that reached a deal.
    Returns:
        ``{class: {topic: (seq int array, normalised price array, senders, agreed)}}``,
        rows in ``seq`` order.
    """
    rows: dict[str, list[tuple[int, str, float]]] = {}
    for topic, seq, sender, price in paths:
        if topic in topic_class:
            rows.setdefault(topic, []).append((int(seq), sender, float(price)))
    deals = set(agreed)
    out: dict[str, dict] = {}
    for topic, r in sorted(rows.items()):
        r.sort()
        cls = topic_class[topic]
        out.setdefault(cls, {})[topic] = (
            np.array([x[0] for x in r]), np.array([x[2] / c_ref[cls] for x in r]),
            tuple(x[1] for x in r), topic in deals)
    return out


def median_paths(topics: Mapping[str, tuple[np.ndarray, np.ndarray, tuple, bool]],
                 agreed: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(seq, median normalised price)`` over the topics of one class with outcome
    ``agreed``, at each ``seq`` some of them reached (empty arrays if none)."""
    by_seq: dict[int, list[float]] = {}
    for seq, price, _, ok in topics.values():
        if ok == agreed:
            for s, p in zip(seq, price, strict=True):
                by_seq.setdefault(int(s), []).append(float(p))
    xs = sorted(by_seq)
    return np.array(xs, dtype=int), np.array([np.median(by_seq[s]) for s in xs])


def draw_negotiation_paths(path: Path, series: Mapping[str, Mapping[str, tuple]]) -> Path:
    """Draw :func:`path_series` into ``path`` (PNG): one panel per class."""
    classes = sorted(series) or ["(no negotiations)"]
    cols = min(2, len(classes))
    fig, axes = _figure((len(classes) + cols - 1) // cols, cols, 6.0 * cols,
                        3.6 * ((len(classes) + cols - 1) // cols))
    for ax, cls in zip(axes, classes, strict=False):
        topics = series.get(cls, {})
        names = sorted(topics)
        step = max(1, -(-len(names) // MAX_TOPICS_DRAWN))
        for name in names[::step]:
            seq, price, senders, ok = topics[name]
            ax.plot(seq, price, color=OUTCOME_COLORS[ok], lw=0.5, alpha=0.35)
            for role, marker in (("client", "o"), ("provider", "^")):
                sel = np.array([s == role for s in senders], dtype=bool)
                ax.plot(seq[sel], price[sel], ls="", marker=marker, ms=2.5,
                        color=ROLE_COLORS[role], alpha=0.5)
        for ok, label in ((True, "median, deal"), (False, "median, no deal")):
            x, y = median_paths(topics, ok)
            if len(x):
                n = sum(1 for t in topics.values() if t[3] == ok)
                ax.plot(x, y, color=OUTCOME_COLORS[ok], lw=2.2, label=f"{label} ({n})")
        ax.plot([], [], ls="", marker="o", color=ROLE_COLORS["client"], label="client message")
        ax.plot([], [], ls="", marker="^", color=ROLE_COLORS["provider"], label="provider message")
        ax.set_title(f"{cls}: {len(names)} topics")
        ax.set_xlabel("message seq (round = ceil(seq/2))")
        ax.set_ylabel("price / c_ref")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[len(classes):]:
        ax.set_visible(False)
    fig.suptitle("Negotiation paths: offer prices by message")
    fig.savefig(path, dpi=90)
    return path


# -- utilisation -------------------------------------------------------------------------
def utilisation_series(rows: Iterable[tuple[float, str, float]]
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(time s, {kpi name: values})`` of the ``utilisation.*`` KPIs among ``rows``
    (``(time s, name, value)``, the run store's ``kpis`` table); times ascending, a
    KPI without a row at a time is nan there."""
    by_t: dict[float, dict[str, float]] = {}
    for t, name, v in rows:
        if name.startswith("utilisation."):
            by_t.setdefault(float(t), {})[name] = float(v)
    t = np.array(sorted(by_t), dtype=float)
    names = sorted({n for kp in by_t.values() for n in kp})
    return t, {n: np.array([by_t[x].get(n, np.nan) for x in t], dtype=float) for n in names}


def draw_utilisation(path: Path, t: np.ndarray, series: Mapping[str, np.ndarray]) -> Path:
    """Draw :func:`utilisation_series` into ``path``: market-wide per resource (left),
    cpu by region (right); time in hours."""
    fig, (a, b) = _figure(1, 2, 12.0, 4.0)
    h = t / 3600
    for name, y in series.items():
        parts = name.split(".")
        ax = a if len(parts) == 2 else b
        ax.plot(h, y, lw=1.2, label=".".join(parts[1:]))
    for ax, title in ((a, "market-wide, by resource"), (b, "cpu, by region")):
        ax.set_title(title)
        ax.set_xlabel("time (hours)")
        ax.set_ylabel("utilisation (reserved / capacity)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend(fontsize=8)
    fig.suptitle("Utilisation: ∫ reserved dt / (capacity × elapsed)")
    fig.savefig(path, dpi=90)
    return path


# -- agent returns -----------------------------------------------------------------------
def return_series(agents: Mapping[str, Sequence]) -> dict[str, dict[str, tuple]]:
    """Per role, per agent: ``(time s, W_t / W_0 - 1)`` from its ``portfolio`` samples
    (an agent with W_0 <= 0 or no sample is skipped)."""
    out: dict[str, dict[str, tuple]] = {}
    for role, members in agents.items():
        for a in members:
            w = np.asarray(a.portfolio.values, dtype=float)
            if len(w) and w[0] > 0:
                out.setdefault(role, {})[a.name] = (
                    np.asarray(a.portfolio.times, dtype=float), w / w[0] - 1)
    return out


def role_mean(series: Mapping[str, tuple]) -> tuple[np.ndarray, np.ndarray]:
    """``(time s, mean over the agents sampled at that time)`` of one role's series."""
    by_t: dict[float, list[float]] = {}
    for t, r in series.values():
        for x, y in zip(t, r, strict=True):
            by_t.setdefault(float(x), []).append(float(y))
    ts = sorted(by_t)
    return np.array(ts), np.array([np.mean(by_t[x]) for x in ts])


def draw_agent_returns(path: Path, series: Mapping[str, Mapping[str, tuple]]) -> Path:
    """Draw :func:`return_series` into ``path``: thin lines per agent, role means bold."""
    fig, (ax,) = _figure(1, 1, 9.0, 4.5)
    for role, agents in sorted(series.items()):
        color = ROLE_COLORS.get(role, "0.4")
        for t, r in agents.values():
            ax.plot(t / 3600, 100 * r, color=color, lw=0.5, alpha=0.35)
        t, m = role_mean(agents)
        ax.plot(t / 3600, 100 * m, color=color, lw=2.4, label=f"{role} mean ({len(agents)})")
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_xlabel("time (hours)")
    ax.set_ylabel("cumulative return W_t / W_0 - 1 (%)")
    ax.set_title("Agent returns (W_t samples, spec 7.1)")
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=90)
    return path
