"""The ``premia`` command line. Thin: every command calls the library and renders the result."""

from __future__ import annotations

import json
import logging
import signal
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from premia import console as ui
from premia.errors import ConfigError, PremiaError, RedemptionRefused
from premia.plugins import Registry
from premia.store.db import describe_store_error

F = TypeVar("F", bound=Callable[..., Any])


def describe_settings_error(exc: ValidationError) -> str:
    """One line per invalid ``PREMIA_*`` setting."""
    parts = []
    for err in exc.errors(include_url=False):
        name = "PREMIA_" + "__".join(str(p) for p in err["loc"]).upper()
        parts.append(f"{name}: {err['msg']}")
    return "invalid setting(s): " + "; ".join(parts)


PROGRAM_HELP = "Program file (env PREMIA_PROGRAM)."


class PremiaGroup(click.Group):
    """A click group that prints Premia errors as messages, not tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map Premia errors to exit codes (2: configuration, 1: other)."""
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except PremiaError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except (SQLAlchemyError, ModuleNotFoundError) as exc:
            click.echo(f"error: {describe_store_error(exc)}", err=True)
            ctx.exit(2)
        except ValidationError as exc:
            click.echo(f"error: {describe_settings_error(exc)}", err=True)
            ctx.exit(2)
        except OSError as exc:
            click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            ctx.exit(1)


def program_option(func: F) -> F:
    """Add ``-p/--program`` to a command."""
    return click.option(
        "-p",
        "--program",
        "program",
        type=click.Path(dir_okay=False, path_type=Path),
        default="premia.yaml",
        show_default=True,
        envvar="PREMIA_PROGRAM",
        help=PROGRAM_HELP,
    )(func)


def json_option(func: F) -> F:
    """Add ``--json`` to a read command."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(
        func
    )


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (Decimals and dates as strings)."""
    click.echo(json.dumps(data, indent=2, default=str))


def _registry(ctx: click.Context) -> Registry:
    obj = ctx.ensure_object(dict)
    if "registry" not in obj:
        obj["registry"] = Registry()
    registry: Registry = obj["registry"]
    return registry


def _runtime(ctx: click.Context, program: Path, *, upgrade: bool = True) -> Any:
    from premia.runtime import open_runtime

    return open_runtime(program, registry=_registry(ctx), upgrade=upgrade)


@click.group(cls=PremiaGroup)
@click.version_option(package_name="premia")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Premia: reward results, not activity.

    Describe a program in one YAML file (sources, metrics, rules, rewards), then `premia sync`.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="premia.yaml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a starter program file to PATH."""
    from importlib import resources

    if path.exists() and not force:
        raise ConfigError(f"{path} exists; pass --force to overwrite it")
    template = (resources.files("premia") / "templates" / "program.yaml").read_text(
        encoding="utf-8"
    )
    path.write_text(template, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run: premia check -p {path}")


@cli.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins, their versions, hooks and the types they provide."""
    registry = _registry(ctx)
    infos = [i.as_dict() for i in registry.plugin_infos()]
    problems = [{"name": p.name, "error": p.error} for p in registry.problems]
    if as_json:
        emit_json({"plugins": infos, "problems": problems})
        return
    for info in infos:
        provides = ", ".join(
            f"{family} {', '.join(info[family])}"
            for family in ("sources", "rules", "providers")
            if info[family]
        )
        click.echo(
            f"{info['name']} {info['version'] or ''}".rstrip()
            + (f": {provides}" if provides else "")
        )
        click.echo(f"    hooks: {', '.join(info['hooks'])}")
    for p in problems:
        click.echo(f"BROKEN {p['name']}: {p['error']}")


@cli.command()
@click.pass_context
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of the program file (for editor completion).

    It includes the parameters of every installed rule type and the settings of every
    installed source and provider type, selected by `type`.
    """
    from premia.schema import program_schema

    emit_json(program_schema(_registry(ctx)))


@cli.command()
@program_option
@json_option
@click.pass_context
def check(ctx: click.Context, program: Path, as_json: bool) -> None:
    """Validate the program and try every source and reward provider."""
    from premia.checks import check_program

    with _runtime(ctx, program, upgrade=False) as runtime:
        results = check_program(runtime)
    if as_json:
        emit_json([r.as_dict() for r in results])
    else:
        for r in results:
            label = "FAIL" if not r.ok else "warn" if r.warning else "ok"
            click.echo(f"[{label}] {r.subject}: {r.message}")
    if not all(r.ok for r in results):
        ctx.exit(1)


@cli.command()
@program_option
@json_option
@click.pass_context
def sync(ctx: click.Context, program: Path, as_json: bool) -> None:
    """Read sources incrementally, update metrics and rules, fulfil orders."""
    from premia.engine.sync import run_sync

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with _runtime(ctx, program) as runtime:
            report = run_sync(runtime, ui.ProgressDisplay())
    except KeyboardInterrupt:
        click.echo(
            "interrupted: the run is marked failed; the next sync resumes from the last "
            "stored batch",
            err=True,
        )
        ctx.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        emit_json(report.as_dict())
    else:
        ui.print_sync_report(ui.console(), report)
    if not report.complete:
        ctx.exit(3)


def _terminate(signum: int, frame: Any) -> None:
    """Turn SIGTERM into KeyboardInterrupt so a stopped sync records how it ended."""
    raise KeyboardInterrupt


def _period(conn: Any, runtime: Any, period: str | None, kind: Any = None) -> str:
    from premia.periods import check_period_label
    from premia.queries import latest_period

    kind = kind or runtime.program.config.period
    if period is not None:
        return check_period_label(kind.value, period)
    found = latest_period(conn, kind)
    if found is None:
        raise PremiaError("no data yet: run `premia sync` first")
    return str(found)


@cli.command()
@click.argument("participant")
@program_option
@click.option("--period", help="Only this period, e.g. 2017-Q4 (default: all).")
@json_option
@click.pass_context
def progress(
    ctx: click.Context, participant: str, program: Path, period: str | None, as_json: bool
) -> None:
    """Show PARTICIPANT's balance, badges and progress on every rule."""
    from premia.periods import check_period_label
    from premia.queries import participant_status

    with _runtime(ctx, program) as runtime, runtime.engine.connect() as conn:
        person = runtime.program.participant(participant)
        if period is not None:
            check_period_label([k.value for k in runtime.program.period_kinds()], period)
        status = participant_status(conn, runtime.program, person, period)
    if as_json:
        emit_json(status.as_dict())
    else:
        ui.print_status(ui.console(), status)


@cli.command()
@program_option
@click.option("--metric", help="Metric to rank by (default: the first rank rule's metric).")
@click.option("--by", "by", help="Rank within each value of this attribute, e.g. region.")
@click.option("--period", help="Period (default: the latest).")
@click.option("--limit", type=int, help="Rows per group.")
@json_option
@click.pass_context
def leaderboard(
    ctx: click.Context,
    program: Path,
    metric: str | None,
    by: str | None,
    period: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Rank participants by a metric in a period."""
    from premia.queries import leaderboard as board

    with _runtime(ctx, program) as runtime, runtime.engine.connect() as conn:
        prog = runtime.program
        rank_rule = next((r for r in prog.rules if r.config.type == "rank"), None)
        if metric is None:
            if rank_rule is None:
                raise ConfigError("pass --metric (the program has no rank rule to default to)")
            metric = rank_rule.config.metric
            by = by or rank_rule.config.params.get("within")
        kind = rank_rule.period if rank_rule is not None else prog.config.period
        chosen = _period(conn, runtime, period, kind)
        groups = board(conn, prog, metric, kind, chosen, by)
    if as_json:
        emit_json(
            {
                "metric": metric,
                "period": chosen,
                "by": by,
                "groups": [
                    {"group": g, "entries": [e.as_dict() for e in es[:limit] if True]}
                    for g, es in groups.items()
                ],
            }
        )
        return
    out = ui.console()
    for group, entries in groups.items():
        title = f"{metric}, {chosen}" + (f" - {by} {group}" if by else "")
        ui.print_leaderboard(out, title, metric, entries, limit)


@cli.command()
@click.argument("participant")
@program_option
@click.option("--rule", "rule", required=True, help="Rule name.")
@click.option("--period", required=True, help="Period, e.g. 2017-Q4.")
@json_option
@click.pass_context
def explain(
    ctx: click.Context, participant: str, program: Path, rule: str, period: str, as_json: bool
) -> None:
    """Explain why RULE did or did not pay PARTICIPANT in PERIOD."""
    from premia.queries import explain as why

    with _runtime(ctx, program) as runtime, runtime.engine.connect() as conn:
        result = why(conn, runtime.program, runtime.program.participant(participant), rule, period)
    if as_json:
        emit_json(result.as_dict())
    else:
        ui.print_explanation(ui.console(), result)


@cli.command()
@program_option
@json_option
@click.pass_context
def catalog(ctx: click.Context, program: Path, as_json: bool) -> None:
    """List the reward catalog of every provider."""
    rows = []
    with (
        _runtime(ctx, program, upgrade=False) as runtime,
        runtime.providers() as providers,
    ):
        for prov in runtime.program.config.rewards.providers:
            for item in providers.get(prov.name).catalog():
                rows.append(
                    {
                        "provider": prov.name,
                        "sku": item.sku,
                        "name": item.name,
                        "kind": item.kind,
                        "points": item.points,
                        "value": str(item.value) if item.value is not None else None,
                        "currency": item.currency,
                        "inventory": item.inventory,
                        "regions": sorted(item.regions) if item.regions is not None else None,
                    }
                )
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        stock = "unlimited" if r["inventory"] is None else f"{r['inventory']} left"
        regions = ", ".join(r["regions"]) if r["regions"] else "all regions"
        click.echo(
            f"{r['sku']:<14} {r['points']:>8,} pts  {r['name']} ({r['kind']}; {stock}; {regions})"
        )


@cli.command()
@click.argument("participant")
@click.argument("sku")
@program_option
@click.option(
    "--request-id",
    help="Idempotency key of this request (default: a new one). Reuse it to retry safely.",
)
@click.option("--quantity", type=int, default=1, show_default=True)
@json_option
@click.pass_context
def redeem(
    ctx: click.Context,
    participant: str,
    sku: str,
    program: Path,
    request_id: str | None,
    quantity: int,
    as_json: bool,
) -> None:
    """Redeem PARTICIPANT's points for catalog item SKU."""
    from premia.engine.fulfillment import drain_outbox
    from premia.engine.fulfillment import redeem as do_redeem
    from premia.engine.sync import utcnow
    from premia.queries import orders_of

    request_id = request_id or uuid.uuid4().hex
    with (
        _runtime(ctx, program) as runtime,
        runtime.providers() as providers,
    ):
        person = runtime.program.participant(participant)
        try:
            order, created = do_redeem(
                runtime.engine,
                runtime.program,
                providers,
                person,
                sku,
                request_id,
                utcnow(),
                quantity,
            )
        except RedemptionRefused as exc:
            click.echo(f"refused: {exc}", err=True)
            ctx.exit(4)
        drain_outbox(runtime.engine, runtime.program, providers, utcnow)
        with runtime.engine.connect() as conn:
            final = next(o for o in orders_of(conn) if o["key"] == order["key"])
    if as_json:
        emit_json({"created": created, "request_id": request_id, "order": final})
    else:
        state = "placed" if created else "already placed earlier (same request id)"
        click.echo(
            f"order {final['key']} {state}: {final['sku']} for {final['points']:,} points, status {final['status']}"
        )


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo (default: a new temporary folder).",
)
def demo(directory: Path | None) -> None:
    """Run the whole job on the bundled CRM sample data (SQLite, no server needed)."""
    import tempfile

    from premia.demo import run_demo

    target = directory or Path(tempfile.mkdtemp(prefix="premia-demo-"))
    run_demo(target, ui.console(), ui.ProgressDisplay())


@cli.group()
def db() -> None:
    """Manage the store."""


@db.command("upgrade")
@program_option
@click.option(
    "--database",
    help="Database URL (default: PREMIA_DATABASE_URL, else premia.db beside the program).",
)
def db_upgrade(program: Path, database: str | None) -> None:
    """Create or migrate the store's schema to this version."""
    from premia.runtime import database_url
    from premia.settings import load_settings
    from premia.store.db import connect, current_revision, upgrade

    url = database or database_url(program, load_settings())
    engine = connect(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    click.echo(
        f"schema at revision {after}"
        + (f" (was {before})" if before != after else " (already current)")
    )


def main() -> None:
    """Entry point of the ``premia`` command: loads plugins' commands, then runs."""
    try:
        registry = Registry()
    except PremiaError as exc:  # strict plugin mode
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for problem in registry.problems:
        click.echo(f"warning: plugin {problem.name!r} skipped: {problem.error}", err=True)
    registry.pm.hook.premia_register_commands(cli=cli)
    cli.main(obj={"registry": registry}, prog_name="premia")
