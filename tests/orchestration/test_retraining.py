"""Retraining that closes the loop: a drift alert in a scheduled tick -> one gated challenger.

Real MLflow registry, run store and scheduler tick in this process; the notice goes to a
webhook on 127.0.0.1.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _scheduled import SCHEDULED_SETTINGS, input_file, recent_windows, scheduled_copy, wait_for

from _http_server import Recorder, http_server
from _postgres import make_postgres_database
from _projects import readings, write_project
from shipml.orchestration.due import SCHEDULER
from shipml.orchestration.scheduler import WindowScheduler
from shipml.project import RETRAINING, Project, train
from shipml.windows import Window

RETRAINING_SETTINGS = """
[monitoring]
fail_on_critical = false

[retraining]
on_alerts = ["drift"]
cooldown = "1h"
since = "3650d"
"""


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """A webhook on loopback, set as the project's alert sink."""
    with http_server() as recorder:
        monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", recorder.url)
        yield recorder


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def retraining_toy(
    request: pytest.FixtureRequest, trained_toy: Path, tmp_path: Path
) -> Iterator[Path]:
    """The scheduled toy with a retraining policy on drift, cooling down for an hour; its
    registry and run store in SQLite files, or in PostgreSQL (trained there afresh)."""
    if request.param == "sqlite":
        directory = scheduled_copy(trained_toy, tmp_path / "toy")
        settings = directory / "shipml.toml"
        settings.write_text(settings.read_text() + RETRAINING_SETTINGS)
        yield directory
        return
    with (
        make_postgres_database("shipml_retraining_registry") as registry,
        make_postgres_database("shipml_retraining_store") as store,
    ):
        directory = tmp_path / "toy"
        directory.mkdir()
        write_project(directory)
        settings = SCHEDULED_SETTINGS.format(catch_up_max=96, retries=2)
        (directory / "shipml.toml").write_text(
            textwrap.dedent(settings).lstrip()
            + RETRAINING_SETTINGS
            + f'\n[tracking]\nuri = "{registry.render_as_string(hide_password=False)}"\n'
            + f'\n[store]\nurl = "{store.render_as_string(hide_password=False)}"\n'
        )
        project = Project.load(directory)
        project.tracker.promote(train(project).model.version)
        yield directory


def write_hot_inputs(project: Path, windows: list[Window]) -> None:
    """Inputs far hotter than the training data: every window drifts."""
    for number, window in enumerate(windows):
        frame = readings(window.start, 40, seed=number).drop(columns=["failed"])
        frame["temperature_c"] = (frame["temperature_c"] + 30).clip(upper=149)
        frame["ts"] = window.start.isoformat()
        frame.to_csv(input_file(project, window), index=False)


def notices(webhook: Recorder) -> list[dict[str, object]]:
    """The retraining notices the webhook received."""
    bodies = [json.loads(body) for _, _, body in webhook.requests]
    return [body for body in bodies if body["rule"] == RETRAINING]


def test_a_drift_alert_retrains_once_into_a_gated_challenger_and_notifies(
    retraining_toy: Path, webhook: Recorder
) -> None:
    windows = recent_windows(before=4, after=30)
    write_hot_inputs(retraining_toy, windows)
    project = Project.load(retraining_toy)
    champion = project.tracker.current("champion")
    ran_before = project.store.start_run(
        "toy", "batch", window_start=windows[0].start, window_end=windows[0].end, trigger=SCHEDULER
    )
    project.store.finish_run(ran_before, status="succeeded")

    outcomes = WindowScheduler(project).tick()  # catches up three windows, then the latest

    assert len(outcomes) >= 3 and {o.status for o in outcomes} == {"succeeded"}
    assert any(a.rule.startswith("drift.") for a in project.store.alerts(status="open"))
    [retrained] = project.store.runs(pipeline="toy", kind="train", trigger=RETRAINING)
    assert retrained.status == "succeeded"
    challenger = project.tracker.current("challenger")
    assert challenger == retrained.model_version and challenger != champion
    assert project.tracker.current("champion") == champion
    [move] = project.store.alias_moves("toy", "challenger")
    assert (move.reason, move.outcome, move.run_id) == ("retraining", "moved", retrained.id)
    assert move.gate is not None and move.gate["champion_version"] == champion
    wait_for(lambda: bool(notices(webhook)), 10, "the retraining notice")
    [notice] = notices(webhook)
    assert notice["severity"] == "info" and f"v{challenger} -> challenger" in notice["message"]
    assert notice["details"]["gate"]["passed"] is True
    assert notice["details"]["move"]["id"] == move.id

    # A later window drifts again, inside the cool-down: no second retraining.
    time.sleep(2.1)  # the next 2-second window completes
    again = WindowScheduler(Project.load(retraining_toy)).tick()

    assert again and {o.status for o in again} == {"succeeded"}
    assert len(project.store.runs(pipeline="toy", kind="train", trigger=RETRAINING)) == 1
    assert len(project.store.alias_moves("toy", "challenger")) == 1
    assert len(notices(webhook)) == 1
