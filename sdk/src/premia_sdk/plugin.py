"""The SDK's own Premia plugin: adds the ``premia sdk ...`` commands.

It goes through the same command hook as any third-party plugin; the core never imports the
SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import premia

if TYPE_CHECKING:
    import click

PREMIA_HOOKSPEC_VERSION = 1
"""The version of Premia's hook contract this plugin implements."""


@premia.hookimpl
def premia_register_commands(cli: click.Group) -> None:
    """Add the ``sdk`` command group (``premia sdk new-plugin ...``)."""
    from premia_sdk.cli import sdk

    cli.add_command(sdk)
