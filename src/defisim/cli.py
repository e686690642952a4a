"""The ``defisim`` command line (a typer app named ``app``).

Verbs:

- ``defisim run SCENARIO [--steps N] [--seed S] [--out DIR] [--prices FILE]
  [--price-column C] [--time-column C] [--set name=value ...] [--no-invariants]
  [--no-plots] [--force] [--quiet] [--accounts-every N] [--debug] [--state-hash]``: run a scenario
  into a run folder.
- ``defisim plot RUN_DIR``: redraw a run's PNG plots from its ``run.duckdb``.
- ``defisim scenarios``: the scenarios and their parameters.
- ``defisim netlist run NETLIST OUT_DIR`` / ``netlist plot NETLIST CSV_DIR PNG_DIR`` /
  ``netlist list``: TokenSPICE-style netlists (a name or a Python file), their
  ``data.csv`` and plots (:mod:`defisim.scenarios.netlist`). ``run`` also takes a file.
- ``defisim scheme check FILE``: check a user's compute-marketplace message scheme
  (a Python file defining a ``SchemeDefinition``) and summarise it.
- ``defisim replay-lobster MESSAGE_CSV ORDERBOOK_CSV [--json]``: replay a LOBSTER
  sample through the order book and compare with its book file.
- ``defisim replay-uniswap-v3 TICK_CSV [--json] [--backend python|evm]``: replay a day of
  Uniswap V3 pool events (demeter-fetch ``tick.csv``) through the V3 pool (the Python core
  or the official bytecode) and check every swap to the wei.
- ``defisim replay RUN_DIR [--set name=value ...]``: re-execute a run recorded with
  ``--state-hash`` without agents and check every block's state hash; exit 1 at the
  first diverging block (both hashes and its transactions printed).
- ``defisim fork RUN_DIR --at-block N [--set name=value ...] [--out DIR]``: continue a
  run from block N under changed parameters the scenario can apply mid-run (its
  ``fork_params``; others: exit 2) (:mod:`defisim.runner.replay_run`).
- ``defisim replay-fuzz FILE``: replay a saved fuzz failure (``fuzz-failure-<seed>.json``);
  exit 1 if it still violates an invariant.
- ``defisim sweep`` / ``optimize`` / ``report``: experiments (:mod:`defisim.experiments`).
- ``defisim serve RUN_DIR [--host 127.0.0.1] [--port 8000]``: a run folder's web
  console at ``/`` and read-only GraphQL at ``/graphql``; ``defisim serve --scenario
  NAME [--set k=v] [--steps N] [--seed S] [--pace SECONDS]``: a live run with its
  console (pause, step, resume, speed with the operator's token from the printed URL)
  and the remote API at ``/v1`` (:mod:`defisim.server`; the ``serve`` extra).
- ``defisim train SCENARIO --max-iterations N [--out DIR] [--resume] ...``: train an
  offline soft actor-critic trader in the scenario (:mod:`defisim.learning.workflow`).
- ``defisim evaluate CHECKPOINT --episodes N``: the trained policy against baselines.
- ``defisim paper CHECKPOINT --feed file|paced|exchange [--prices FILE] [--exchange ID]
  [--symbol S] [--speed X] [--pace-s S] [--steps N] [--host H] [--port P]``: paper
  trading: the checkpoint's scenario hosted live on the feed, the trained policy
  trading it through the remote API, its metrics printed as it goes
  (:mod:`defisim.learning.paper`; the ``rl`` and ``serve`` extras, ``paper`` for
  ``--feed exchange``).

Errors in what the user gave (unknown scenario, bad ``--set``, malformed price
file, absurd ``--steps``, an ``--out`` that cannot be created or written, an
existing run folder, one another run is writing even with ``--force``) print
one line starting with ``error:`` on stderr and exit with status 2, creating or
deleting nothing; so does a verb whose extra is not installed (train / evaluate:
``rl``, optimize: ``optimize``, sweep --backend ray: ``ray``; :mod:`defisim.extras`),
naming the extra. Once the run folder exists every end writes ``summary.json``:
a run stopped by an invariant violation, an exception, or a failure to write the
folder or close the store exits 1 (the summary has the error); Ctrl-C or SIGTERM
exits 130 (the folder has what was recorded, ``"interrupted": true`` and the
``"signal"``). ``plot`` and ``report`` on an incomplete run folder print
``warning: incomplete run: <why>`` on stderr (the report shows a banner) and
still exit 0; ``plot`` on a folder a run is writing exits 2.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, get_args, get_origin

import typer

app = typer.Typer(
    name="defisim",
    help="Agent-based simulation of DeFi protocols on a deterministic null chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

# CLI options that map to scenario parameters
_OPTION_PARAMS = {
    "--steps": "steps",
    "--prices": "prices_file",
    "--price-column": "price_column",
    "--time-column": "time_column",
}


class _UserError(Exception):
    """Bad input: reported as one ``error:`` line, exit status ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    first = " ".join(message.split("\n")[0].split()) if message else "failed"
    typer.echo(f"error: {first}", err=True)
    raise typer.Exit(code)


def _require_extra(extra: str, feature: str) -> None:
    """Exit 2 with one ``error:`` line naming ``extra`` unless its modules import."""
    from defisim.extras import MissingExtraError, require

    try:
        require(extra, feature=feature)
    except MissingExtraError as exc:
        _fail(str(exc))


def _one_line(exc: BaseException) -> str:
    from defisim.runner.loop import one_line as one

    return one(exc)


# ----------------------------------------------------------------- parameters
def _type_name(annotation: Any) -> str:
    """A readable name of a parameter's type (``int``, ``float | None``, ...)."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return annotation.__name__
    if get_origin(annotation) is Literal:  # the choices: immediate|mempool
        return "|".join(str(a) for a in get_args(annotation))
    text = str(annotation)
    for prefix in ("typing.", "pathlib.", "collections.abc."):
        text = text.replace(prefix, "")
    return text.replace("NoneType", "None")


def _field_docs(model: type) -> dict[str, str]:
    """Field descriptions: ``Field(description=...)``, else the attribute docstring."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if cls is object or not hasattr(cls, "model_fields"):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    for name, f in model.model_fields.items():
        if f.description:
            docs[name] = " ".join(f.description.split())
    return docs


def _convert(model: type, name: str, raw: str) -> Any:
    """``raw`` (a command-line string) as a value of parameter ``name`` of ``model``.

    Tried in order: the string itself (pydantic's lax conversion: ``"10"`` ->
    10, ``"true"`` -> True), then the string parsed as JSON (lists, objects,
    ``null``), with ``none``/``null`` meaning ``None``.

    Raises:
        _UserError: no conversion fits (names the parameter and the expected type).
    """
    from pydantic import TypeAdapter, ValidationError

    field = model.model_fields[name]
    adapter = TypeAdapter(field.annotation)
    candidates: list[Any] = [raw]
    try:
        candidates.append(json.loads(raw))
    except ValueError:
        pass
    if raw.strip().lower() in ("none", "null"):
        candidates.append(None)
    first_error = ""
    for value in candidates:
        try:
            adapter.validate_python(value)
            return value
        except ValidationError as exc:
            if not first_error:
                first_error = exc.errors()[0].get("msg", "")
    raise _UserError(
        f"parameter {name} expects {_type_name(field.annotation)}, got {raw!r}"
        + (f" ({first_error})" if first_error else "")
    )


def _parse_sets(scenario: str, model: type, items: list[str]) -> dict[str, Any]:
    """``--set name=value`` items as a dict of validated parameter values.

    Raises:
        _UserError: an item without ``=``, an unknown name (the valid names are
            listed) or a value of the wrong type.
    """
    out: dict[str, Any] = {}
    valid = list(model.model_fields)
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise _UserError(f"--set expects name=value, got {item!r}")
        if name not in model.model_fields:
            raise _UserError(
                f"scenario {scenario} has no parameter {name!r}; valid names: {', '.join(valid)}"
            )
        out[name] = _convert(model, name, raw)
    return out


def scenario_class(name: str) -> type:
    """The scenario class of a registered ``name`` or of a Python file (a path ending
    in ``.py`` or holding a ``/``; :mod:`defisim.scenarios.loader`).

    Raises:
        _UserError: unknown name, or a file that does not define one scenario (its
            syntax error or exception with file and line).
    """
    from defisim.scenarios import get_scenario
    from defisim.scenarios.loader import ScenarioFileError, is_scenario_path, load_scenario_file

    try:
        if is_scenario_path(name):
            return load_scenario_file(name)
        return get_scenario(name)
    except (KeyError, ScenarioFileError) as exc:
        raise _UserError(_one_line(exc)) from None


def build_scenario(name: str, sets: list[str] | None = None, options: dict[str, Any] | None = None):
    """Construct scenario ``name`` with ``--set`` items and option-mapped parameters.

    ``options`` maps a CLI option (``--steps``, ``--prices``, ``--price-column``,
    ``--time-column``) to its value (``None`` = not given). The scenario is
    constructed and ``total_steps()`` validated, so a malformed price file fails
    here, before any run folder exists.

    Raises:
        _UserError: unknown scenario, bad parameters, or a scenario that cannot
            start (price file, steps).
    """
    from pydantic import ValidationError

    from defisim.runner import validate_steps

    cls = scenario_class(name)
    model = cls.Params
    values = _parse_sets(name, model, list(sets or []))
    for opt, value in (options or {}).items():
        if value is None:
            continue
        param = _OPTION_PARAMS[opt]
        if param not in model.model_fields:
            raise _UserError(f"scenario {name} has no parameter {param} (given by {opt})")
        if opt == "--prices":
            p = Path(value)
            if not p.is_file():
                raise _UserError(
                    f"prices file {value} does not exist"
                    if not p.exists()
                    else f"prices file {value} is not a file"
                )
            value = str(p)
        values[param] = _convert(model, param, str(value)) if opt != "--prices" else value
    try:
        params = model(**values)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e.get("loc", ())) or "parameters"
        raise _UserError(f"invalid parameter {loc}: {e.get('msg', '')}") from None
    try:
        scn = cls(params)
        validate_steps(scn)
    except NotImplementedError as exc:
        raise _UserError(f"{_one_line(exc)} (give --steps N)") from None
    except (ValueError, TypeError, KeyError, OSError) as exc:
        # PriceFileError is a ValueError whose message is already "<file>:<line>: ..."
        raise _UserError(_one_line(exc)) from None
    return scn


# ------------------------------------------------------------------- commands
@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Scenario name (see `defisim scenarios`) or a Python file defining one.")
    ],
    steps: Annotated[
        str | None,
        typer.Option(metavar="N", help="Number of steps (default: the scenario's; 1e5 is fine)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Root seed of every random stream.", min=0)] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Run folder (default: runs/<scenario>-<seed>-<UTC timestamp>)."),
    ] = None,
    prices: Annotated[
        Path | None, typer.Option(help="Reference price CSV (scenario param prices_file).")
    ] = None,
    price_column: Annotated[str | None, typer.Option(help="Price column of --prices.")] = None,
    time_column: Annotated[str | None, typer.Option(help="Time column of --prices.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Scenario parameter name=value (repeatable).")
    ] = None,
    no_invariants: Annotated[
        bool, typer.Option("--no-invariants", help="Skip the invariant checks at block end.")
    ] = False,
    no_plots: Annotated[
        bool, typer.Option("--no-plots", help="Do not draw the PNG plots.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a non-empty run folder.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")
    ] = False,
    accounts_every: Annotated[
        int,
        typer.Option(help="Record every account's balance every N steps (0: only at the end)."),
    ] = 1,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of failures.")] = False,
    state_hash: Annotated[bool, typer.Option(
        "--state-hash", help="Record each block's state hash and every transaction "
        "(for `defisim replay` and `defisim fork`; costs a hash of the state per block).")] = False,
) -> None:
    """Run SCENARIO and record it into a run folder."""
    from defisim.runner import (
        RunSetupError,
        check_run_dir,
        default_run_dir,
        in_use,
        run_scenario,
    )

    try:
        scn = build_scenario(
            scenario,
            set_,
            {
                "--steps": _parse_steps(steps),
                "--prices": prices,
                "--price-column": price_column,
                "--time-column": time_column,
            },
        )
    except _UserError as exc:
        _fail(str(exc), exc.code)
    out_dir = out if out is not None else default_run_dir(scn.name, seed)
    busy = in_use(out_dir)
    if busy is not None:
        _fail(busy)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        _fail(
            f"run folder {out_dir} exists and is not empty (use --force to overwrite)"
            if out_dir.is_dir()
            else f"run folder {out_dir} exists and is not a folder"
        )
    problem = check_run_dir(out_dir)
    if problem is not None:
        _fail(problem)
    try:
        result = run_scenario(
            scn,
            seed=seed,
            out_dir=out_dir,
            check_invariants=not no_invariants,
            progress=not quiet,
            plots=not no_plots,
            force=force,
            command=list(sys.argv),
            record_accounts_every=accounts_every,
            handle_sigterm=True,
            state_hash=state_hash,
        )
    except (RunSetupError, FileExistsError) as exc:
        if debug:
            traceback.print_exc()
        _fail(_one_line(exc))
    except KeyboardInterrupt as exc:
        by = getattr(exc, "signal_name", None)
        where = (
            f"run in {out_dir} (see summary.json)" if (out_dir / "summary.json").is_file()
            else "no run folder was written"
        )
        _fail(f"interrupted{f' by {by}' if by else ''}; {where}", EXIT_INTERRUPTED)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        where = (
            "see summary.json" if (out_dir / "summary.json").is_file()
            else "summary.json could not be written"
        )
        _fail(
            f"run failed: {type(exc).__name__}: {_one_line(exc)} "
            f"(run folder {out_dir}, {where}; --debug for the traceback)",
            EXIT_FAILED,
        )

    if not quiet:
        _print_summary(result)
    else:
        typer.echo(str(result.out_dir))
    if result.interrupted:
        by = f" by {result.stop_signal}" if result.stop_signal not in (None, "SIGINT") else ""
        _fail(
            f"interrupted{by} after {result.steps} of {result.total_steps} steps; partial run "
            f"in {result.out_dir}",
            EXIT_INTERRUPTED,
        )
    if result.error is not None:
        lines = [ln.strip() for ln in result.error.splitlines() if ln.strip()]
        detail = lines[0]
        if len(lines) > 1 and lines[1].startswith("- "):
            detail = f"{detail} {lines[1][2:]}"
        _fail(f"{detail} (run folder {result.out_dir}, see summary.json)", EXIT_FAILED)
    if result.plot_error:
        typer.echo(f"warning: plots failed: {result.plot_error}", err=True)


def _parse_steps(text: str | None) -> int | None:
    """``--steps``: a whole number, also written like ``1e5`` or ``100_000``.

    Raises:
        _UserError: anything else.
    """
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x != int(x):
        raise _UserError(f"--steps must be a whole number, got {text!r}")
    return int(x)


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"run folder: [bold]{result.out_dir}[/bold]")
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="dim")
    t.add_column()
    t.add_row("scenario", f"{result.scenario} (seed {result.seed})")
    t.add_row("steps", f"{result.steps} / {result.total_steps}")
    t.add_row("wall time", f"{result.wall_s:.2f} s ({result.steps_per_s:,.0f} steps/s)")
    t.add_row("trades", f"{result.trades:,}")
    t.add_row("orders", f"{result.orders:,} ({result.order_updates:,} updates)")
    t.add_row("events", f"{result.events:,}")
    shown = 0
    for name, value in result.kpis.items():
        if shown >= 20:
            t.add_row("...", f"{len(result.kpis) - shown} more KPIs in summary.json")
            break
        t.add_row(name, _fmt(value))
        shown += 1
    console.print(t)


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.6g}"


@app.command()
def plot(run_dir: Annotated[Path, typer.Argument(help="A run folder (with run.duckdb).")]) -> None:
    """Redraw the PNG plots of RUN_DIR from its run.duckdb."""
    from defisim.runner import PlotError, in_use, plot_run, run_status

    if not run_dir.is_dir():
        _fail(f"run folder {run_dir} does not exist")
    busy = in_use(run_dir)
    if busy is not None:
        _fail(busy)
    try:
        written = plot_run(run_dir)
    except PlotError as exc:
        _fail(str(exc))
    status = run_status(run_dir)
    if not status.complete:
        typer.echo(f"warning: {status.message}", err=True)
    for p in written:
        typer.echo(str(p))
    if not written:
        typer.echo("warning: nothing to plot (no rows)", err=True)


@app.command()
def scenarios() -> None:
    """List the scenarios and their parameters (name, type, default, description)."""
    from rich.console import Console
    from rich.table import Table

    from defisim.scenarios import get_scenario, scenario_names

    console = Console()
    for name in scenario_names():
        cls = get_scenario(name)
        console.print(f"[bold]{name}[/bold]: {cls.description}")
        t = Table(show_header=True, box=None, pad_edge=False, header_style="dim")
        t.add_column("parameter", no_wrap=True)
        t.add_column("type", no_wrap=True)
        t.add_column("default", overflow="fold", max_width=24)
        t.add_column("description", overflow="fold", ratio=1)
        docs = _field_docs(cls.Params)
        for pname, f in cls.Params.model_fields.items():
            default = (
                "(required)" if f.is_required() else repr(f.get_default(call_default_factory=True))
            )
            t.add_row(pname, _type_name(f.annotation), default, docs.get(pname, ""))
        console.print(t)
        console.print()


netlist_app = typer.Typer(
    help="TokenSPICE-style netlists: run one into TokenSPICE's data.csv, plot a CSV, list them.",
    no_args_is_help=True,
)
app.add_typer(netlist_app, name="netlist")


def _netlist_class(name: str) -> type:
    from defisim.scenarios.netlist import Netlist

    cls = scenario_class(name)
    if not issubclass(cls, Netlist):
        raise _UserError(f"{name}: scenario {cls.name!r} is not a netlist (it writes no "
                         "data.csv); run it with `defisim run`")
    return cls


@netlist_app.command("run")
def netlist_run(
    netlist: Annotated[str, typer.Argument(help="A netlist name (`defisim netlist list`) or a Python file defining one.")],
    out_dir: Annotated[Path, typer.Argument(help="Output folder (must not exist): data.csv and the run folder.")],
    seed: Annotated[int, typer.Option(help="Root seed of every random stream.", min=0)] = 0,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Netlist parameter name=value (repeatable).")
    ] = None,
    steps: Annotated[str | None, typer.Option(metavar="N", help="Steps (default: the horizon's).")] = None,
    no_invariants: Annotated[bool, typer.Option("--no-invariants", help="Skip the invariant checks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Run NETLIST into OUT_DIR: TokenSPICE's data.csv (DARC-SPICE netlists also
    datax.csv) beside the usual run folder (run.duckdb, params.json, summary.json)."""
    from defisim.runner import check_run_dir, run_scenario

    try:
        _netlist_class(netlist)
        scn = build_scenario(netlist, set_, {"--steps": _parse_steps(steps)})
    except _UserError as exc:
        _fail(str(exc), exc.code)
    if out_dir.exists():
        _fail(f"output folder {out_dir} exists (as TokenSPICE's tsp run, netlist run "
              "refuses to write into an existing folder)")
    problem = check_run_dir(out_dir)
    if problem is not None:
        _fail(problem)
    try:
        result = run_scenario(scn, seed=seed, out_dir=out_dir, check_invariants=not no_invariants,
                              progress=not quiet, plots=False, command=list(sys.argv),
                              record_accounts_every=0, handle_sigterm=True)
    except KeyboardInterrupt:
        _fail(f"interrupted; partial run in {out_dir}", EXIT_INTERRUPTED)
    except Exception as exc:
        _fail(f"run failed: {type(exc).__name__}: {_one_line(exc)} (folder {out_dir})", EXIT_FAILED)
    if result.error is not None:
        _fail(f"{result.error.splitlines()[0]} (run folder {out_dir}, see summary.json)", EXIT_FAILED)
    csv = out_dir / "data.csv"
    typer.echo(str(csv) if quiet else f"{csv}: {len(scn.rows)} rows, {len(scn.rows[0][0]) if scn.rows else 0} "
               f"columns; {result.steps} ticks in {result.wall_s:.2f} s")


@netlist_app.command("plot")
def netlist_plot(
    netlist: Annotated[str, typer.Argument(help="The netlist whose plot instructions to use (name or file).")],
    csv_dir: Annotated[Path, typer.Argument(help="Folder holding data.csv (or datax.csv).")],
    png_dir: Annotated[Path, typer.Argument(help="Folder for the PNGs (created if missing).")],
) -> None:
    """Draw NETLIST's TokenSPICE plots of CSV_DIR/data.csv (datax.csv for DARC-SPICE
    netlists, and rpdata.csv's research-project plots when present) into PNG_DIR."""
    from defisim.scenarios.netlist import NetlistCsvError, read_csv
    from defisim.scenarios.netlist.tokenspice_plots import check_specs, draw

    try:
        cls = _netlist_class(netlist)
    except _UserError as exc:
        _fail(str(exc), exc.code)
    csv = csv_dir / ("datax.csv" if (csv_dir / "datax.csv").is_file() else "data.csv")
    try:
        header, rows = read_csv(csv)
        specs = cls().plot_specs(header)
        check_specs(header, specs, netlist)
        if cls.x_label not in header:
            raise KeyError(f"{csv}: no x column {cls.x_label!r}")
        paths = draw(header, rows, cls.x_label, specs, png_dir, darc=cls.csv_style == "darc")
        rp_csv = csv_dir / "rpdata.csv"
        if rp_csv.is_file():  # DARC-SPICE's research-project file and its plots
            rp_header, rp_rows = read_csv(rp_csv)
            rp_specs = cls().rp_plot_specs(rp_header)
            check_specs(rp_header, rp_specs, netlist)
            paths += draw(rp_header, rp_rows, cls.x_label, rp_specs, png_dir, darc=True)
    except (OSError, NetlistCsvError, KeyError, ValueError) as exc:
        _fail(_one_line(exc).strip("\"'"))
    typer.echo(f"{len(paths)} plots in {png_dir}")


@netlist_app.command("list")
def netlist_list() -> None:
    """The registered netlists."""
    from defisim.scenarios import get_scenario, scenario_names
    from defisim.scenarios.netlist import Netlist

    for name in scenario_names():
        cls = get_scenario(name)
        if issubclass(cls, Netlist):
            typer.echo(f"{name}: {cls.description}")


scheme_app = typer.Typer(
    help="Compute-marketplace message schemes (spec 2): check a user's scheme file.",
    no_args_is_help=True,
)
app.add_typer(scheme_app, name="scheme")


@scheme_app.command("check")
def scheme_check(
    file: Annotated[Path, typer.Argument(help="A Python file defining a SchemeDefinition "
                                               "(SCHEME = ..., or the only one).")],
) -> None:
    """Load FILE's scheme, run the engine's checks and the whole-table ones, and print
    a summary (messages, states, transitions, terminal states); a malformed scheme, a
    syntax error or a file with no scheme: one ``error:`` line naming the file, exit 2."""
    from defisim.protocols.compute.schemes.check import (
        SchemeFileError,
        load_scheme_file,
        summarize,
    )

    try:
        defn = load_scheme_file(file)
    except SchemeFileError as exc:
        _fail(str(exc))
    for line in summarize(defn).lines():
        typer.echo(line)


@app.command("replay-lobster")
def replay_lobster_cmd(
    message_csv: Annotated[Path, typer.Argument(help="LOBSTER message file.")],
    orderbook_csv: Annotated[Path, typer.Argument(help="LOBSTER orderbook file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Replay a LOBSTER sample through the order book and compare with its book file."""
    from defisim.replay.lobster import format_result, replay_lobster

    try:
        result = replay_lobster(message_csv, orderbook_csv)
    except (ValueError, OSError) as exc:
        _fail(_one_line(exc))
    if as_json:
        typer.echo(json.dumps(result.to_json_dict()))
    else:
        typer.echo(format_result(result))


@app.command("replay-uniswap-v3")
def replay_uniswap_v3_cmd(
    tick_csv: Annotated[Path, typer.Argument(help="demeter-fetch Uniswap V3 tick.csv file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    backend: Annotated[str, typer.Option(
        "--backend", help="What runs the swaps: python (the V3Pool core) or evm (the official "
        "UniswapV3Pool bytecode on the embedded EVM; needs the evm extra and npm).")] = "python",
) -> None:
    """Replay a day of Uniswap V3 pool events through the V3 pool and check every event."""
    from defisim.evm import ArtifactError
    from defisim.extras import MissingExtraError
    from defisim.replay.uniswap_v3 import format_result, replay_uniswap_v3

    try:
        result = replay_uniswap_v3(tick_csv, backend=backend)
    except (ValueError, OSError, ArtifactError, MissingExtraError) as exc:
        _fail(_one_line(exc))
    if as_json:
        typer.echo(json.dumps(result.to_json_dict()))
    else:
        typer.echo(format_result(result))


@app.command("replay-fuzz")
def replay_fuzz_cmd(
    failure_file: Annotated[Path, typer.Argument(help="A fuzz-failure-<seed>.json file.")],
) -> None:
    """Replay a saved fuzz failure; exit 1 if it still violates an invariant, 0 if not."""
    from defisim.scenarios.fuzzing import format_replay, load_failure, replay_failure

    try:
        failure = load_failure(failure_file)
    except (ValueError, OSError) as exc:
        _fail(_one_line(exc))
    result = replay_failure(failure)
    typer.echo(format_replay(failure, result))
    if result.violation is not None:
        raise typer.Exit(EXIT_FAILED)


def _run_overrides(run_dir: Path, sets: list[str] | None) -> dict[str, Any]:
    """``--set`` items against the scenario recorded in ``run_dir``'s ``params.json``."""
    if not sets:
        return {}
    try:
        scenario = json.loads((run_dir / "params.json").read_text())["scenario"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # replay_run reports the folder's problem
    return _parse_sets(scenario, scenario_class(scenario).Params, list(sets))


@app.command("replay")
def replay_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder recorded with --state-hash.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Change a parameter (name=value) to see where the state first differs.")] = None,
) -> None:
    """Re-execute a run's recorded transactions (no agents) and check every block's state
    hash; exit 0 when all match, 1 at the first diverging block."""
    from defisim.runner.replay_run import ReplayError, replay_run

    try:
        result = replay_run(run_dir, _run_overrides(run_dir, set_))
    except (_UserError, ReplayError) as exc:
        _fail(str(exc))
    d = result.divergence
    if d is None:
        typer.echo(f"all {result.blocks} blocks match ({result.transactions} transactions)")
        return
    typer.echo(f"block {d.block} (t = {d.time_ns / 1e9:g} s) diverges after {result.blocks - 1} "
               f"matching blocks\n  recorded {d.recorded}\n  replayed {d.replayed}\n"
               f"  {len(d.transactions)} transactions in the block:")
    for tx in d.transactions[:50]:
        typer.echo(f"    {tx.sender or '-'} {tx.protocol or 'chain'}.{tx.call}{tx.args!r}")
    if len(d.transactions) > 50:
        typer.echo(f"    ... {len(d.transactions) - 50} more")
    raise typer.Exit(EXIT_FAILED)


@app.command("fork")
def fork_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder recorded with --state-hash.")],
    at_block: Annotated[int, typer.Option("--at-block", help="Block to continue from.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Parameter name=value in force after the fork block (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(help="New run folder (default: runs/...).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a non-empty --out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Continue RUN_DIR from block N under changed parameters into a new run folder (the
    original is re-run with its agents to N, every block's hash checked). Only the
    parameters the scenario can apply mid-run are accepted (its ``fork_params``, e.g.
    fees or agents' rates; an error lists them); adding agents: ``fork_run(...,
    on_fork=[...])`` in Python."""
    from defisim.runner import default_run_dir
    from defisim.runner.replay_run import ReplayError, fork_run, load_run

    try:
        overrides = _run_overrides(run_dir, set_)
        rec = load_run(run_dir)
        target = out if out is not None else default_run_dir(f"{rec.scenario}-fork", rec.seed)
        result = fork_run(run_dir, at_block, target, overrides, force=force, progress=not quiet,
                          command=list(sys.argv))
    except (_UserError, ReplayError, FileExistsError) as exc:
        _fail(str(exc))
    typer.echo(str(result.out_dir))
    if result.error is not None:
        _fail(f"{result.error.splitlines()[0]} (run folder {result.out_dir})", EXIT_FAILED)


# ---------------------------------------------------------------- experiments
@app.command()
def sweep(
    scenario: Annotated[str, typer.Argument(help="Scenario name (see `defisim scenarios`).")],
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="Swept parameter name=v1,v2,... (repeatable)."),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Seeds 0..N-1 per grid point.", min=1)] = 1,
    workers: Annotated[int, typer.Option(help="Parallel processes / Ray CPUs.", min=1)] = 1,
    backend: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (auto or host:port).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Sweep folder (default sweeps/<scenario>).")
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Steps per run.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fixed parameter name=value (repeatable).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip runs already in sweep.duckdb.")
    ] = False,
    no_invariants: Annotated[bool, typer.Option("--no-invariants")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    kpi: Annotated[
        list[str] | None,
        typer.Option("--kpi", help="KPI shown in the results table (repeatable)."),
    ] = None,
) -> None:
    """Run the grid of parameters times N seeds into OUT/sweep.duckdb; print means and CIs.

    The table shows the --kpi columns (default: volume, trades, spread... as fit the
    terminal); OUT/results.csv has every KPI of every point."""
    if backend == "ray":
        _require_extra("ray", "defisim sweep --backend ray")
    from defisim.experiments import ExperimentError, parse_grid, run_sweep
    from defisim.experiments.sweep import parse_assignments

    try:
        g = parse_grid(scenario, list(grid or []))
        fixed = parse_assignments(scenario, list(set_ or []))
        if steps is not None:
            fixed.update(parse_assignments(scenario, [f"steps={steps}"], "--steps"))
        res = run_sweep(
            scenario,
            g,
            seeds,
            out if out is not None else Path("sweeps") / scenario,
            fixed=fixed,
            workers=workers,
            backend=backend,
            address=address,
            resume=resume,
            progress=not quiet,
            check_invariants=not no_invariants,
            plots=not no_plots,
            kpis=list(kpi) if kpi else None,
        )
    except ExperimentError as exc:
        _fail(str(exc))
    if not quiet:
        _print_sweep(res)
    typer.echo(f"every KPI of every point (mean, CI, n): {res.out_dir / 'results.csv'}")
    typer.echo(
        f"{res.ran} runs ({res.failed} not ok), {res.skipped} skipped, "
        f"{res.wall_s:.2f} s; {res.out_dir / 'sweep.duckdb'}"
    )
    if res.interrupted:
        _fail(f"interrupted; --resume continues in {res.out_dir}", EXIT_INTERRUPTED)


def _print_sweep(res) -> None:
    from rich.console import Console

    from defisim.experiments.table import sweep_table

    console = Console()
    st = sweep_table(list(res.grid), res.summary, res.kpis, console.width)
    console.print(st.table)
    if st.left_out:
        typer.echo(f"{len(st.left_out)} more KPIs not shown (choose columns with --kpi)")


@app.command()
def optimize(
    scenario: Annotated[str, typer.Argument(help="Scenario name.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", help="name=low:high (repeatable).")
    ] = None,
    objective: Annotated[str, typer.Option(help="KPI to optimise (its final value).")] = "",
    direction: Annotated[str, typer.Option(help="maximize or minimize.")] = "maximize",
    trials: Annotated[int, typer.Option(help="Number of trials (at least 1).")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the TPE sampler.", min=0)] = 0,
    run_seeds: Annotated[int, typer.Option(help="Run seeds averaged per trial.")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Study folder (default studies/<scenario>).")
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Steps per run.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fixed parameter name=value (repeatable).")
    ] = None,
) -> None:
    """Optimise scenario parameters for a KPI with Optuna (storage OUT/optuna.db).

    Everything is checked before the folder is made; a warning says when every trial
    gave the same objective (flat in the chosen parameters)."""
    _require_extra("optimize", "defisim optimize")
    from defisim.experiments import ExperimentError
    from defisim.experiments.optimize import parse_ranges, run_optimize
    from defisim.experiments.sweep import parse_assignments

    if not objective:
        _fail("give --objective KPI")
    try:
        ranges = parse_ranges(scenario, list(param or []))
        fixed = parse_assignments(scenario, list(set_ or []))
        if steps is not None:
            fixed.update(parse_assignments(scenario, [f"steps={steps}"], "--steps"))
        res = run_optimize(
            scenario,
            ranges,
            objective,
            out if out is not None else Path("studies") / scenario,
            direction=direction,
            trials=trials,
            seed=seed,
            run_seeds=run_seeds,
            fixed=fixed,
        )
    except ExperimentError as exc:
        _fail(str(exc))
    typer.echo(
        f"best {objective} = {_fmt(res.best_value)} ({res.trials} trials, {res.failed} failed)"
    )
    for k, v in res.best_params.items():
        typer.echo(f"  {k} = {v}")
    if res.warning:
        typer.echo(f"warning: {res.warning}", err=True)
    typer.echo(str(res.out_dir / "history.png"))


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A run, sweep or optimize folder.")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default FOLDER/report.html).")
    ] = None,
) -> None:
    """Write a self-contained HTML report of a run, sweep or study folder."""
    from defisim.experiments import ExperimentError
    from defisim.experiments.report import build_report, incomplete_run

    try:
        path = build_report(folder, out)
    except ExperimentError as exc:
        _fail(str(exc))
    warning = incomplete_run(folder)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(str(path))


@app.command()
def serve(
    run_dir: Annotated[Path | None, typer.Argument(
        help="A run folder (with run.duckdb); or give --scenario for a live run.")] = None,
    scenario: Annotated[str | None, typer.Option(
        help="Run this scenario live in the server (a name or a Python file).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Scenario parameter name=value (repeatable; with --scenario).")] = None,
    steps: Annotated[str | None, typer.Option(
        metavar="N", help="Number of steps of the live run (default: the scenario's).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the live run.", min=0)] = 0,
    pace: Annotated[float, typer.Option(
        help="Seconds of wall time between the live run's steps.", min=0.001, max=3600)] = 0.25,
    host: Annotated[str, typer.Option(
        help="Address to bind; only this machine by default (give 0.0.0.0 to serve others).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Serve a run over HTTP: the web console at /, GraphQL at /graphql (a run folder),
    or a live run of --scenario with the console's controls and the remote API (/v1)."""
    _require_extra("serve", "defisim serve")
    import uvicorn

    if (run_dir is None) == (scenario is None):
        _fail("give a run folder or --scenario NAME (one of them)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: serving on {host}: whoever reaches it can read the run", err=True)
    if scenario is not None:
        _serve_live(scenario, set_, steps, seed, pace, host, port)
        return
    if set_ or steps is not None:
        _fail("--set and --steps apply to a live run (--scenario)")
    from defisim.server.app import create_app
    from defisim.server.console import console_router
    from defisim.server.data import RunDataError

    if not run_dir.is_dir():
        _fail(f"run folder {run_dir} does not exist")
    if not (run_dir / "run.duckdb").is_file():
        _fail(f"run folder {run_dir} has no run.duckdb")
    try:
        application = create_app(run_dir)
    except RunDataError as exc:
        _fail(str(exc))
    application.include_router(console_router(data=application.state.data))
    typer.echo(f"serving {run_dir} at http://{host}:{port}/ (console) and /graphql "
               "(Ctrl-C stops)", err=True)
    uvicorn.run(application, host=host, port=port, log_level="warning")


def _serve_live(scenario: str, sets: list[str] | None, steps: str | None, seed: int,
                pace: float, host: str, port: int) -> None:
    """``defisim serve --scenario``: a paced live run, its console and remote API."""
    import uvicorn

    from defisim.runner import RunSetupError
    from defisim.server.console import create_live_app
    from defisim.server.live import LiveRun

    try:
        scn = build_scenario(scenario, sets, {"--steps": steps})
        live = LiveRun(scn, seed, pace_s=pace)
    except _UserError as exc:
        _fail(str(exc), exc.code)
    except RunSetupError as exc:
        _fail(str(exc))
    application = create_live_app(live)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"live {scn.name} (seed {seed}, a step every {pace:g} s); the console with "
               f"its controls (keep this URL private: it carries the operator's token):\n"
               f"  http://{shown}:{port}/?token={live.host.operator_token}\n"
               f"read-only: http://{shown}:{port}/ ; remote API: http://{shown}:{port}/v1 "
               "(Ctrl-C stops)", err=True)
    live.start()
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning")
    finally:
        live.stop()


# ------------------------------------------------------------------ learning
@app.command()
def train(
    scenario: Annotated[str, typer.Argument(help="Scenario the learner trades in.")],
    max_iterations: Annotated[int, typer.Option(help="Train until this many iterations.",
                                                min=1)] = 5,
    out: Annotated[Path | None, typer.Option(help="Training folder (default "
                                             "runs/train-<scenario>).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out.")] = False,
    episodes: Annotated[int, typer.Option(help="Episodes collected per iteration.", min=1)] = 10,
    episode_steps: Annotated[int, typer.Option(help="Env steps per episode.", min=1)] = 100,
    warmup_steps: Annotated[int, typer.Option(help="Scenario steps before episodes.",
                                              min=0)] = 5,
    steps_per_action: Annotated[int, typer.Option(help="Scenario steps per env step.",
                                                  min=1)] = 1,
    collateral: Annotated[float, typer.Option(help="Learner's deposit.")] = 100_000.0,
    observation: Annotated[str | None, typer.Option(
        help="Comma-separated observation features (see defisim.envs.observations), e.g. "
             "position,prices:5,reference_lookahead:1,time_left.")] = None,
    action: Annotated[str, typer.Option(help="Action kind: discrete or quotes.")] = "discrete",
    size: Annotated[float, typer.Option(help="Contracts per order / quote.")] = 0.1,
    reward: Annotated[str, typer.Option(help="pnl, pnl_inventory, dsr, ddr or terminal.")
                      ] = "pnl",
    reward_scale: Annotated[float, typer.Option(help="Multiplier of PnL rewards.")] = 1.0,
    inventory_penalty: Annotated[float, typer.Option(help="Per contract per step.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Base seed of the episodes.", min=0)] = 0,
    epochs_q: Annotated[int, typer.Option(help="Critic epochs per iteration.", min=0)] = 20,
    epochs_pi: Annotated[int, typer.Option(help="Policy epochs per iteration.", min=0)] = 5,
    alpha: Annotated[float, typer.Option(help="Initial entropy coefficient.")] = 0.2,
    alpha_decay: Annotated[float, typer.Option(help="Entropy decay per iteration.")] = 0.9,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Scenario parameter name=value (repeatable).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train an offline soft actor-critic trader on SCENARIO (collect, fit Q, improve)."""
    _require_extra("rl", "defisim train")
    from pydantic import ValidationError

    from defisim.envs import EnvSetupError
    from defisim.learning.workflow import train_scenario
    from defisim.scenarios import get_scenario

    folder = out if out is not None else Path("runs") / f"train-{scenario}"
    env_cfg: dict[str, Any] = {}
    try:
        if not resume or set_ or observation:
            try:
                model = get_scenario(scenario).Params
            except KeyError as exc:
                raise _UserError(_one_line(exc)) from None
            env_cfg = {
                "scenario": scenario,
                "scenario_params": _parse_sets(scenario, model, list(set_ or [])),
                "episode_steps": episode_steps, "warmup_steps": warmup_steps,
                "steps_per_action": steps_per_action, "collateral": collateral,
                "action": {"kind": action, "size": size},
                "reward": {"kind": reward, "scale": reward_scale,
                           "inventory_penalty": inventory_penalty},
                "base_seed": seed,
            }
            if observation:
                env_cfg["observation"] = [f.strip() for f in observation.split(",") if f.strip()]
        train_cfg = {"max_iterations": max_iterations, "episodes_per_iteration": episodes,
                     "seed": seed, "epochs_q": epochs_q, "epochs_pi": epochs_pi,
                     "sac_config": {"alpha": alpha, "alpha_decay": alpha_decay, "seed": seed}}
        res = train_scenario(env_cfg, folder,
                             {"max_iterations": max_iterations} if resume else train_cfg,
                             resume=resume,
                             progress=not quiet)
    except _UserError as exc:
        _fail(str(exc), exc.code)
    except (EnvSetupError, ValidationError, ValueError, FileExistsError,
            FileNotFoundError) as exc:
        _fail(_one_line(exc))
    if not quiet:
        typer.echo("iteration  episode PnL (mean ± SE)   q_loss     alpha")
        for row in res.log:
            typer.echo(f"{int(row['iteration']):9d}  {_fmt(float(row['episode_pnl_mean'])):>12} ± "
                       f"{_fmt(float(row['episode_pnl_se'])):<10} {_fmt(float(row['q_loss'])):>9} "
                       f"{_fmt(float(row['alpha'])):>9}")
    typer.echo(str(res.checkpoint))


@app.command()
def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint .pt or a training folder.")],
    episodes: Annotated[int, typer.Option(help="Evaluation episodes per policy.", min=1)] = 50,
    out: Annotated[Path | None, typer.Option(help="Output folder (default "
                                             "<training folder>/evaluation).")] = None,
    seed: Annotated[int, typer.Option(help="Env seed of the first episode.", min=0)
                    ] = 1_000_000,
    no_baselines: Annotated[bool, typer.Option("--no-baselines")] = False,
) -> None:
    """Evaluate a trained policy against random, hold, buy-and-hold and zero-intelligence."""
    _require_extra("rl", "defisim evaluate")
    from defisim.envs import EnvSetupError
    from defisim.learning.workflow import evaluate_checkpoint

    try:
        res = evaluate_checkpoint(checkpoint, episodes, out, seed, not no_baselines)
    except (EnvSetupError, ValueError, FileNotFoundError) as exc:
        _fail(_one_line(exc))
    cols = ("pnl_mean", "pnl_se", "win_rate", "sharpe_mean", "max_drawdown_mean", "cvar_mean")
    typer.echo(f"{'policy':<18}" + "".join(f"{c:>18}" for c in cols))
    for name, ev in res.items():
        typer.echo(f"{name:<18}" + "".join(f"{_fmt(ev.metrics[c]):>18}" for c in cols))
    folder = out if out is not None else (
        (checkpoint if checkpoint.is_dir() else checkpoint.parent.parent) / "evaluation")
    typer.echo(str(folder))


# ------------------------------------------------------------- paper trading
@app.command()
def paper(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint .pt or a training folder.")],
    feed: Annotated[str, typer.Option(help="Reference price: file (deterministic), paced "
                                      "(the file in wall time) or exchange (live, ccxt).")
                    ] = "paced",
    prices: Annotated[str | None, typer.Option(help="Price file (file / paced feeds).")] = None,
    exchange: Annotated[str, typer.Option(help="ccxt exchange id (--feed exchange).")
                        ] = "binance",
    symbol: Annotated[str, typer.Option(help="Exchange symbol (--feed exchange).")
                      ] = "BTC/USDT",
    speed: Annotated[float, typer.Option(help="File seconds per wall second (paced); "
                                         "default: one step per --pace-s.")] = 0.0,
    poll_s: Annotated[float, typer.Option(help="Seconds between exchange requests.")] = 2.0,
    pace_s: Annotated[float, typer.Option(help="Wall seconds between steps.")] = 1.0,
    steps: Annotated[int | None, typer.Option(help="Env steps to trade (default the "
                                              "training episode's).", min=1)] = None,
    host: Annotated[str, typer.Option(help="Address of the remote API; this machine only "
                                      "by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: a free one).", min=0, max=65535)] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the live run.", min=0)] = 0,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Scenario parameter name=value (repeatable).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per step.")] = False,
) -> None:
    """Paper-trade a trained policy: host its scenario live on a price feed and let the
    policy trade it through the remote API (an external agent), printing its metrics."""
    _require_extra("rl", "defisim paper")
    _require_extra("serve", "defisim paper")
    if feed not in ("file", "paced", "exchange"):
        _fail(f"--feed must be file, paced or exchange, got {feed!r}")
    if feed == "exchange":
        _require_extra("paper", "defisim paper --feed exchange")
    if not (pace_s > 0 and math.isfinite(pace_s)) or speed < 0 or not poll_s > 0:
        _fail("--pace-s and --poll-s must be > 0, --speed >= 0")
    from defisim.learning.paper import load_checkpoint_policy

    try:
        policy = load_checkpoint_policy(checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        _fail(_one_line(exc))
    env = policy.env
    try:
        model = scenario_class(env["scenario"]).Params
        params = {**env.get("scenario_params", {}),
                  **_parse_sets(env["scenario"], model, list(set_ or []))}
    except _UserError as exc:
        _fail(str(exc), exc.code)
    if "reference_feed" not in model.model_fields and feed != "file":
        _fail(f"scenario {env['scenario']} has no reference_feed; use --feed file")
    if prices is not None:
        params["prices_file"] = prices
    if feed != "file":
        params.update(reference_feed=feed, exchange=exchange, symbol=symbol, poll_s=poll_s)
    _paper_session(policy, params, feed, speed, pace_s, steps, host, port, seed, quiet)


def _paper_session(policy, params: dict[str, Any], feed: str, speed: float, pace_s: float,
                   steps: int | None, host: str, port: int, seed: int, quiet: bool) -> None:
    """Build the live run, serve it, run the trader in a thread, print its metrics."""
    import threading

    from pydantic import ValidationError

    from defisim.learning.paper import MetricsReporter, RemotePolicyTrader
    from defisim.prices import PriceFileError
    from defisim.runner.run import RunSetupError, step_ns_of
    from defisim.server.live import LiveRun
    from defisim.service.remote import RemoteSimulation

    env = policy.env
    cls = scenario_class(env["scenario"])
    try:
        scn = cls(cls.Params(**params))
        if feed == "paced":
            p = scn.params
            scn.params = p.model_copy(update={"speed": speed or p.step_seconds / pace_s})
            scn.source.speed = scn.params.speed
        live = LiveRun(scn, seed, pace_s=pace_s)
    except (ValidationError, PriceFileError, RunSetupError, ValueError, ImportError) as exc:
        _fail(_one_line(exc))
    sim = live.run.sim
    market = env.get("market") or scn.markets[0]
    asset = sim.futures.market_view(market).asset
    party = env.get("learner", "learner")
    token = live.host.register_party(party, {asset: float(env["collateral"])})
    n = steps or int(env["episode_steps"])
    spa = int(env.get("steps_per_action", 1))
    step_s = float(scn.params.step_seconds)
    warmup = int(env.get("warmup_steps", 0))
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: serving on {host}: whoever reaches it with a token can trade",
                   err=True)
    stop = threading.Event()
    done: dict[str, Any] = {}
    from defisim.server.console import create_live_app
    from defisim.server.remote import ServerThread

    # the console and the remote API on one port: the trader's metrics show live in the
    # console's "external agents" table
    with ServerThread(create_live_app(live), bind=host, port=port) as server:
        typer.echo(f"paper trading {env['scenario']} ({feed} feed) at {server.url}; party "
                   f"{party!r}; {n} steps of {spa} x {step_s:g} s every {pace_s * spa:g} s "
                   "(Ctrl-C stops)", err=True)
        typer.echo(f"console: {server.url}/?token={live.host.operator_token}", err=True)
        remote = RemoteSimulation(server.url, token=token)
        reporter = MetricsReporter(server.url, token)
        trader = RemotePolicyTrader(remote, party, policy.act, market=market,
                                    observation=env["observation"], action=env["action"],
                                    episode_steps=int(env["episode_steps"]),
                                    capital=float(env["collateral"]),
                                    step_seconds=step_s * spa, report=reporter)

        def trade() -> None:
            try:
                done["steps"] = trader.run(n, step_ns_of(step_s), steps_per_action=spa,
                                           stall_s=10 * pace_s * spa + 10, stop=stop)
            except BaseException as exc:  # reported below; the run is stopped cleanly
                done["error"] = exc

        if warmup:
            live.step(warmup)  # as the training env's warm-up, before the pacing starts
        thread = threading.Thread(target=trade, name="defisim-paper-trader", daemon=True)
        thread.start()
        live.start()
        shown = -1.0
        try:
            while thread.is_alive():
                thread.join(timeout=min(0.2, pace_s * spa / 4))
                m = live.host.metrics.get(party)
                if m and m["step"] != shown and not quiet:
                    shown = m["step"]
                    typer.echo(f"step {int(m['step']):5d}  mid {m['mid']:.2f}  position "
                               f"{m['position']:g}  pnl {m['pnl']:.2f}  equity "
                               f"{m['equity']:.2f}  sharpe {_fmt(m['sharpe'])}")
        except KeyboardInterrupt:
            stop.set()
            thread.join(timeout=10)
        live.stop()
        remote.close()
        reporter.close()
    if "error" in done:
        _fail(f"the trader stopped: {_one_line(done['error'])}", EXIT_FAILED)
    m = trader.metrics

    def finite(v: Any) -> Any:
        return v if v is None or math.isfinite(v) else None
    typer.echo(json.dumps({"steps": done.get("steps", 0),
                           **{k: finite(m.get(k)) for k in ("pnl", "position", "equity",
                                                            "sharpe")},
                           "reference_stale_steps": getattr(scn.feed, "stale_steps", 0)}))


def main() -> None:  # pragma: no cover - python -m defisim.cli
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
