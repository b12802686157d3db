"""The ``premia sdk`` commands. Thin: the work is in :mod:`premia_sdk.scaffold`."""

from __future__ import annotations

from pathlib import Path

import click

from premia_sdk.scaffold import KINDS, new_plugin


@click.group()
def sdk() -> None:
    """Tools for plugin authors: scaffold a new plugin."""


@sdk.command("new-plugin")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    required=True,
    help="What the plugin contributes: a KPI source, a reward provider or a rule type.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to create the plugin's project folder in.",
)
def new_plugin_command(name: str, kind: str, directory: Path) -> None:
    """Write a ready-to-install plugin project premia-NAME/ (package premia_NAME).

    NAME is normalised: `acme_crm`, `acme-crm` and `Acme CRM` all give the distribution
    premia-acme-crm, the package premia_acme_crm and the type name acme_crm. The project
    has its settings model, a hook implementation, tests that run the contract kit offline
    (recorded HTTP for sources and providers) and a README.
    """
    result = new_plugin(name, kind, directory)
    click.echo(f"created {result.root} ({kind} plugin {result.names.type_name!r}):")
    for path in result.files:
        click.echo(f"  {path.relative_to(result.root).as_posix()}")
    click.echo("next:")
    click.echo(f"  cd {result.root}")
    click.echo("  pip install -e '.[test]'")
    click.echo("  pytest")
    click.echo("  premia plugins")
