"""An online window's outcome as an event: a failed one raises `window_failed`, a good one
clears it (the serving app calls this for every stored online window)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shipml.alerting.windows import clear_failure, raise_failure
from shipml.project.project import Project

log = logging.getLogger(__name__)


def online_window_outcome(project: Project) -> Callable[[str, datetime, str | None], None]:
    """What to do once an online window is stored: alert on its failure, or clear one."""

    def on_stored(run_id: str, start: datetime, failure: str | None) -> None:
        if failure is None:
            clear_failure(project.store, project.name, start, "online")
            return
        raise_failure(
            project.store,
            project.name,
            failure,
            window_key=f"online {start.isoformat()}",
            run_id=run_id,
            window_start=start,
            sinks=project.alert_sinks,
            kind="online",
        )
        log.error("online window from %s failed: %s", start.isoformat(), failure)

    return on_stored
