"""Failed windows are events: one `window_failed` notification each, closed by the next
success, decided in window time (a re-run or a backfill of the past pages nobody).

Every test runs `shipml run` against a real webhook receiver on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _failing import notices, run, windows, write_inputs
from _http_server import Reply, http_server
from shipml.alerting import BACKFILL_SUMMARY, WINDOW_FAILED
from shipml.cli._common import console
from shipml.project.project import Project


def test_three_failed_windows_in_ten_make_three_notifications_each_closed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ten = windows(0, 10)
    failing = [ten[2], ten[5], ten[8]]
    write_inputs(project, ten, broken=failing)
    with http_server(Reply(200)) as server:
        monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", server.url + "/hook")

        assert run(project, ten) == 1  # failed windows exit non-zero

    failed = [n for n in notices(server) if n["rule"] == WINDOW_FAILED]
    assert len(failed) == 3
    assert [n["window_start"] for n in failed] == [
        w.start.isoformat().replace("+00:00", "Z") for w in failing
    ]
    assert all(n["severity"] == "critical" for n in failed)
    assert all("25 of 75 rows invalid" in str(n["message"]) for n in failed)
    alerts = [a for a in Project.load(project).store.alerts() if a.rule == WINDOW_FAILED]
    assert len(alerts) == 3 and {a.status for a in alerts} == {"closed"}
    assert sorted(a.closed_window_start for a in alerts) == [
        ten[3].start,
        ten[6].start,
        ten[9].start,
    ]


def test_a_forced_rerun_of_an_old_window_after_later_ones_sends_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    five = windows(0, 5)
    write_inputs(project, five, broken=[five[1]])
    with http_server(Reply(200)) as server:
        monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", server.url + "/hook")
        run(project, five)
        before = Project.load(project).store.alerts()
        sent = len(server.requests)

        assert run(project, [five[1]], "--force") == 1  # it still fails, and says so

        assert notices(server)[sent:] == []  # no page, and no summary: nothing new
    after = Project.load(project).store.alerts()
    assert [(a.id, a.status, a.occurrences) for a in after] == [
        (a.id, a.status, a.occurrences) for a in before
    ]  # the alert a later window closed stays closed
    runs = Project.load(project).store.runs(kind="batch", limit=100)
    assert [r.status for r in runs if r.window_start == five[1].start] == ["failed", "failed"]


def test_a_backfill_of_fifty_past_windows_sends_one_summary(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest = windows(60, 2)
    past = windows(0, 50)
    broken = [*past[10:13], past[30]]
    write_inputs(project, [*latest, *past], broken=broken)
    with http_server(Reply(200)) as server:
        monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", server.url + "/hook")
        assert run(project, latest) == 0
        sent = len(server.requests)

        assert run(project, past) == 1  # four windows failed

        backfill = notices(server)[sent:]
    [summary] = backfill
    assert summary["rule"] == BACKFILL_SUMMARY and summary["severity"] == "critical"
    assert "backfill of 50 past window(s)" in str(summary["message"])
    assert "(4 failed)" in str(summary["message"])
    store = Project.load(project).store
    assert [a for a in store.alerts() if a.rule == WINDOW_FAILED] == []  # nothing opened
    failed = [r for r in store.runs(kind="batch", limit=100) if r.status == "failed"]
    assert sorted(r.window_start for r in failed) == [w.start for w in broken]
    assert all(r.rows_in == r.rows_valid + r.rows_invalid for r in failed)


def test_status_lists_failed_windows_with_their_reason_and_true_counts(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    from datetime import datetime

    from typer.testing import CliRunner

    from shipml.cli import app

    three = windows(0, 3)
    write_inputs(project, three, broken=[three[1]])
    run(project, three)
    # whole lines in the tables (the console read $COLUMNS when an earlier test imported it)
    monkeypatch.setattr(console, "width", 250)

    shown = CliRunner().invoke(app, ["monitor", "status", "--project", str(project)])
    as_json = CliRunner().invoke(app, ["monitor", "status", "--project", str(project), "--json"])

    assert "failed windows (1)" in shown.output
    assert "25 of 75 rows invalid at featurize.input" in shown.output
    [failed] = json.loads(as_json.stdout)["failed_windows"]
    assert datetime.fromisoformat(failed["start"]) == three[1].start
    assert (failed["rows_in"], failed["rows_valid"], failed["rows_invalid"]) == (75, 50, 25)
    assert "temperature_c" in failed["reason"]
