"""Child processes of the scheduler: a timeout stops them, gracefully first, by force if ignored."""

from __future__ import annotations

import signal
import sys
import threading
import time

from policywatch.service.commands import CommandRunner

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('working', flush=True); time.sleep(60)"
)
POLITE = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: (print('stopping cleanly', flush=True), sys.exit(3)))\n"
    "print('working', flush=True); time.sleep(60)"
)


def runner(grace: float = 1.0) -> CommandRunner:
    return CommandRunner(grace=grace, program=(sys.executable, "-c"))


def test_a_command_that_ends_reports_its_exit_and_output():
    outcome = runner().run("print('crawled 3 sources')", timeout=60)
    assert outcome.ok and "crawled 3 sources" in outcome.output


def test_a_timeout_asks_the_child_to_stop_and_waits_for_it():
    outcome = runner(grace=30).run(POLITE, timeout=3)
    assert outcome.timed_out and outcome.returncode == 3 and "stopping cleanly" in outcome.output


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace():
    outcome = runner(grace=1).run(STUBBORN, timeout=1)
    assert outcome.timed_out and outcome.returncode == -signal.SIGKILL


def test_stop_all_stops_running_children_and_refuses_new_ones(tmp_path):
    ready = tmp_path / "ready"
    script = POLITE.replace("print('working', flush=True)", f"open({str(ready)!r}, 'w').close()")
    commands, outcomes = runner(grace=30), []
    worker = threading.Thread(target=lambda: outcomes.append(commands.run(script, timeout=120)))
    worker.start()
    while not ready.exists():
        time.sleep(0.05)
    commands.stop_all()
    commands.wait_all()
    worker.join()
    assert outcomes[0].returncode == 3 and not outcomes[0].timed_out
    assert commands.run("print('late')", timeout=60).returncode == -signal.SIGTERM
    commands.resume()
    assert commands.run("print('again')", timeout=60).ok


def test_every_command_help_ends_with_an_example():
    import click
    from click.testing import CliRunner

    from policywatch.cli import cli

    def leaves(group, ctx, path):
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                yield from leaves(command, ctx, [*path, name])
            else:
                yield [*path, name]

    missing = [
        " ".join(path)
        for path in leaves(cli, click.Context(cli), [])
        if "Example: policywatch " + " ".join(path) not in CliRunner().invoke(cli, [*path, "--help"]).output
    ]
    assert missing == []
