"""`shipml schedule`: run the project's batch windows on its schedule until stopped."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from shipml.cli._common import EXIT_UNUSABLE, ProjectDir, command, fail, open_project

if TYPE_CHECKING:
    from shipml.orchestration.scheduler import WindowScheduler
    from shipml.windows import Cadence

_FORCED_EXIT = 130
log = logging.getLogger("shipml.schedule")


def register(app: typer.Typer) -> None:
    """Add `schedule` to `app`."""
    command(app, "schedule")(schedule)


def schedule(
    project_dir: ProjectDir = Path("."),
    every: Annotated[
        str | None, typer.Option(help="Window length, e.g. 15m. [default: schedule.every]")
    ] = None,
    cron: Annotated[
        str | None,
        typer.Option(help="Crontab, e.g. '*/15 * * * *'. [default: schedule.cron]"),
    ] = None,
) -> None:
    """Run each batch window as it completes (catching up missed ones); stop with Ctrl-C/SIGTERM.

    A stop lets the running window finish. Two schedulers on one project never run windows
    at the same time: the second waits for the first's lock.
    """
    from shipml.orchestration.scheduler import WindowScheduler

    project = open_project(project_dir)
    cadence = _cadence(every, cron, project.settings.schedule.timezone)
    if cadence is not None:
        project.settings.check_source_fits(cadence)
    _log_to_stderr()
    scheduler = WindowScheduler(project, cadence)
    _stop_on_signals(scheduler)
    scheduler.run()


def _cadence(every: str | None, cron: str | None, timezone: str) -> Cadence | None:
    """The cadence given on the command line (None: the project's own)."""
    from shipml.windows import Cron, parse_interval

    if every is not None and cron is not None:
        fail("give --every or --cron, not both", EXIT_UNUSABLE)
    if every is not None:
        return parse_interval(every)
    if cron is not None:
        return Cron(cron, timezone)
    return None


def _log_to_stderr() -> None:
    """Timestamped log lines on stderr: a scheduler runs unattended."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per job run


def _stop_on_signals(scheduler: WindowScheduler) -> None:
    """First SIGTERM/SIGINT: finish the running window, then exit 0. A second one: exit now."""

    def handle(number: int, frame: FrameType | None) -> None:
        if scheduler.stopping:
            log.warning("second %s: exiting without finishing the window", signal.strsignal(number))
            os._exit(_FORCED_EXIT)  # the window is left running and is redone on the next start
        log.info(
            "%s received: finishing the running window, then exiting", signal.strsignal(number)
        )
        scheduler.stop()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, handle)
