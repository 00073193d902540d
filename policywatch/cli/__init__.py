"""The ``policywatch`` command line. Each command group lives in its own module here and is
imported only when it runs, so ``policywatch crawl`` does not pay for the web stack."""

from __future__ import annotations

import importlib
import sys

import click

from policywatch.settings import SettingsError

# name -> (module under policywatch.cli, one line of help). The module defines ``command``.
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("db", "Upgrade, downgrade or show the database schema."),
    "verify": ("verify", "Check the version hash chains (database or an audit export)."),
    "sources": ("sources", "Load, import, export and list the declared policy sources."),
    "crawl": ("crawl", "Fetch sources once and record snapshots, versions and changes."),
    "changes": ("changes", "List and show the changes found between versions."),
    "announcements": ("announcements", "List the posts found on the platforms' newsrooms."),
    "provisions": ("provisions", "List provisions each document states, their history; rebuild them."),
    "subscribers": ("subscribers", "Add, list, confirm and remove email subscribers."),
    "alerts": ("alerts", "Send same-day alerts for new changes."),
    "digest": ("digest", "Send the weekly digest."),
    "serve": ("serve", "Run the scheduler: crawls, alerts, digest, housekeeping."),
    "worker": ("worker", "Run queued jobs (PostgreSQL): crawls, alerts, digest, housekeeping."),
    "status": ("status", "Show crawl health, pending alerts and the scheduler leader."),
    "web": ("web", "Serve the analyst web UI and JSON API."),
    "demo": ("demo", "Run policywatch end to end on bundled real pages, offline."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"policywatch.cli.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policywatch")
def cli() -> None:
    """policywatch: monitor policy pages, keep every version, explain and alert on changes."""


def main() -> None:
    """Entry point of the ``policywatch`` console script."""
    try:
        cli.main(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"error: invalid setting {exc}", err=True)
        sys.exit(2)
