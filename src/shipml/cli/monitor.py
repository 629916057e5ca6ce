"""`shipml monitor status` and `shipml monitor report`: what production monitoring saw."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from shipml.cli._common import (
    EXIT_FAILED,
    EXIT_UNUSABLE,
    JsonFlag,
    ProjectDir,
    command,
    console,
    fail,
    open_project,
    print_json,
)

if TYPE_CHECKING:
    from shipml.monitoring import (
        DriftResult,
        LatencySummary,
        MonitoringBaseline,
        PerformanceRecord,
        PerformanceResult,
        RealizedComparison,
        ShiftResult,
        WindowEvaluation,
    )
    from shipml.project.failures import FailedWindow
    from shipml.project.history import MonitoredWindow
    from shipml.project.project import Project
    from shipml.store import AlertRecord

NOT_CHECKED = "not checked (n < min)"
DEFAULT_STATUS_WINDOWS = 10
DEFAULT_REPORT_WINDOWS = 1000
_MAX_ALERTS = 1000

monitor_app = typer.Typer(
    name="monitor", help="Drift, prediction shift, latency and alerts.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `monitor` group (`status`, `report`) to `app`."""
    command(monitor_app, "status")(status)
    command(monitor_app, "report")(report)
    app.add_typer(monitor_app)


def status(
    project_dir: ProjectDir = Path("."),
    last: Annotated[
        int, typer.Option(min=1, help="How many recent windows to list.")
    ] = DEFAULT_STATUS_WINDOWS,
    json_output: JsonFlag = False,
) -> None:
    """Latest windows, drift per column, prediction shift, latency, performance, open alerts."""
    from shipml.monitoring import compare_realized
    from shipml.project.failures import failed_windows
    from shipml.project.performance import load_performance

    project = open_project(project_dir)
    _, windows = _monitored(project, last)
    performance = load_performance(project.store, project.name, last)
    challenger = compare_realized(
        performance, load_performance(project.store, project.name, last, challenger=True)
    )
    failed = failed_windows(project.store, project.name, limit=last)
    open_alerts = project.store.alerts(status="open", pipeline=project.name, limit=_MAX_ALERTS)
    if json_output:
        found = _status_json(project.name, windows, failed, open_alerts)
        found["performance"] = [record.model_dump(mode="json") for record in performance]
        found["challenger"] = [compared.model_dump(mode="json") for compared in challenger]
        print_json(found)
        return
    if not windows:
        console.print(f"no monitored windows of {project.name} yet (run `shipml run` first)")
    else:
        latest = windows[-1]
        console.print(_windows_table(project.name, windows))
        console.print(_drift_table(latest))
        console.print(_shift_table(_latest_shift(windows)))
        console.print(_latency_table(_latest_latency(windows)))
    if performance:
        console.print(performance_table(performance))
    if challenger:
        console.print(challenger_table(challenger))
    console.print(_failed_table(failed))
    console.print(_alerts_table(open_alerts))


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    project_dir: ProjectDir = Path("."),
    last: Annotated[
        int, typer.Option(min=1, help="How many recent windows to include.")
    ] = DEFAULT_REPORT_WINDOWS,
) -> None:
    """Write one self-contained HTML report (works offline) of the recent windows."""
    from shipml.errors import MonitoringError
    from shipml.project.failures import failed_windows
    from shipml.project.performance import load_performance
    from shipml.project.report import render_report

    project = open_project(project_dir)
    if not out.parent.is_dir():
        fail(f"the directory for the report does not exist: {out.parent}", EXIT_UNUSABLE)
    baseline, windows = _monitored(project, last)
    since = windows[0].start if windows else None
    failed = failed_windows(project.store, project.name, since=since, limit=last)
    alerts = _alerts_since(project, windows, failed)
    try:
        page = render_report(
            project.name,
            baseline,
            windows,
            alerts,
            failed=failed,
            performance=load_performance(project.store, project.name, last),
        )
    except MonitoringError as error:  # nothing to report on is a failed report, not bad input
        fail(str(error), EXIT_FAILED)
    out.write_text(page, encoding="utf-8")
    size = len(page.encode("utf-8")) / 1e6
    console.print(f"wrote {out} ({size:.1f} MB, {len(windows)} windows, {len(alerts)} alerts)")
    if failed:
        console.print(f"  {len(failed)} failed window(s) marked on every time axis")


def _monitored(
    project: Project, last: int
) -> tuple[MonitoringBaseline | None, list[MonitoredWindow]]:
    """The baseline and the last windows; windows stored without evaluation use its rules."""
    from shipml.project.history import load_baseline, load_windows

    baseline = load_baseline(project.store, project.name)
    rules = project.settings.monitoring
    windows = load_windows(project.store, project.name, last=last, baseline=baseline, config=rules)
    return baseline, windows


def _alerts_since(
    project: Project, windows: list[MonitoredWindow], failed: list[FailedWindow]
) -> list[AlertRecord]:
    """Alerts raised by the windows shown, in window time (all alerts without windows)."""
    alerts = project.store.alerts(pipeline=project.name, limit=_MAX_ALERTS)
    starts = [w.start for w in windows if w.start is not None] + [w.start for w in failed]
    if not starts:
        return alerts
    first = min(starts)
    return [alert for alert in alerts if (alert.window_start or alert.last_seen_at) >= first]


def _latest_shift(windows: list[MonitoredWindow]) -> ShiftResult | None:
    for window in reversed(windows):
        if window.evaluation.shift is not None:
            return window.evaluation.shift
    return None


def _latest_latency(windows: list[MonitoredWindow]) -> dict[str, LatencySummary]:
    for window in reversed(windows):
        if window.evaluation.latency:
            return window.evaluation.latency
    return {}


def _rows(window: MonitoredWindow) -> int:
    return max((column.rows for column in window.profile.columns.values()), default=0)


def performance_table(records: list[PerformanceRecord]) -> Table:
    """Performance per window: realized (from labels) and estimated, judged metrics, verdict."""
    table = Table(
        title="model performance per window (realized from labels; estimated before them, CBPE)"
    )
    for column in ("window", "kind", "model", "labels", "metric", "value", "baseline", "verdict"):
        table.add_column(column)
    for record in reversed(records):
        verdict = record.reason or "not judged"
        if record.judged:
            worse = [r.metric for r in record.degraded]
            verdict = f"[red]degraded: {', '.join(worse)}[/]" if worse else "ok"
        results: list[PerformanceResult | None] = [*record.results] or [None]
        for result in results:
            name = result.metric if result else ", ".join(sorted(record.metrics)[:2])
            value = _number(result.value) if result else ""
            baseline = f"{result.baseline_mean:.4g} ± {result.baseline_std:.2g}" if result else ""
            table.add_row(
                record.window,
                record.kind,
                record.model_version or "-",
                str(record.labels) if record.kind == "realized" else "-",
                name,
                value,
                baseline,
                verdict,
            )
    return table


def challenger_table(compared: list[RealizedComparison]) -> Table:
    """Champion against challenger per window: realized metrics on the same labels."""
    table = Table(title="champion vs challenger, realized on the same labels")
    for column in ("window", "champion / challenger", "labels", "metric"):
        table.add_column(column)
    for column in ("champion", "challenger", "difference"):
        table.add_column(column, justify="right")
    for window in reversed(compared):
        labels = str(window.champion_labels)
        if window.challenger_labels != window.champion_labels:
            labels += f" / {window.challenger_labels}"
        for metric in window.metrics:
            colour = {True: "green", False: "red", None: "default"}[metric.better]
            table.add_row(
                window.window,
                f"v{window.champion_version} / v{window.challenger_version}",
                labels,
                metric.metric,
                _number(metric.champion),
                _number(metric.challenger),
                f"[{colour}]{metric.difference:+.4g}[/]",
            )
    return table


def _windows_table(pipeline: str, windows: list[MonitoredWindow]) -> Table:
    table = Table(title=f"latest monitored windows of {pipeline}")
    for column in ("window start", "kind", "rows", "drifted", "shift z", "p99 ms", "alerts"):
        table.add_column(column)
    for window in reversed(windows):
        evaluation = window.evaluation
        shift = evaluation.shift
        total = evaluation.latency.get("total")
        table.add_row(
            _when(window),
            window.kind,
            str(_rows(window)),
            _drifted(evaluation),
            _z(shift),
            _ms(total.p99 if total else None),
            str(len(evaluation.alerts)) if evaluation.alerts else "",
        )
    return table


def _drifted(evaluation: WindowEvaluation) -> str:
    """How many checks drifted; "not checked (n < min)" when none could be judged."""
    if evaluation.drift and not evaluation.drift_checked:
        return f"[yellow]{NOT_CHECKED}"
    drifted = sum(result.drifted for result in evaluation.drift)
    merged = f" (last {evaluation.drift_windows})" if evaluation.drift_windows > 1 else ""
    return (f"[red]{drifted}[/]" if drifted else "0") + merged


def _drift_table(window: MonitoredWindow) -> Table:
    table = Table(title=f"drift per column, window {_when(window)}")
    for column in ("column", "check", "value", "threshold", "drifted"):
        table.add_column(column)
    table.add_column("judged on", overflow="fold")
    for result in sorted(window.evaluation.drift, key=lambda r: (not r.drifted, r.column)):
        table.add_row(
            result.column,
            result.method,
            _number(result.value),
            f"{result.threshold:g}",
            _verdict(result),
            result.note or f"{result.current_count} values",
        )
    return table


def _verdict(result: DriftResult) -> str:
    if result.value is None:
        return f"[yellow]{NOT_CHECKED}"
    return "[bold red]yes" if result.drifted else "no"


def _failed_table(failed: list[FailedWindow]) -> Table:
    table = Table(title=f"failed windows ({len(failed)})")
    for column in ("window start", "kind", "run", "rows in", "valid", "invalid"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason", overflow="fold")
    for window in reversed(failed):
        table.add_row(
            f"{window.start:%Y-%m-%d %H:%M}",
            window.kind,
            window.run_id[:12],
            *(_count(n) for n in (window.rows_in, window.rows_valid, window.rows_invalid)),
            f"[red]{window.reason}",
        )
    return table


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _shift_table(shift: ShiftResult | None) -> Table:
    table = Table(title="prediction shift (latest window with predictions)")
    for column in ("column", "statistic", "value", "baseline", "z", "k", "shifted"):
        table.add_column(column)
    if shift is not None:
        table.add_row(
            shift.column,
            shift.measure,
            f"{shift.statistic:.4g}",
            f"{shift.baseline_mean:.4g} ± {shift.baseline_std:.3g}",
            _z(shift),
            f"{shift.k:g}",
            "[bold red]yes" if shift.shifted else "no",
        )
    return table


def _latency_table(latency: dict[str, LatencySummary]) -> Table:
    table = Table(title="latency (latest window with timings), ms")
    for column in ("step", "count", "p50", "p95", "p99", "max"):
        table.add_column(column)
    for step, summary in latency.items():
        table.add_row(
            step,
            str(summary.count),
            *(_ms(value) for value in (summary.p50, summary.p95, summary.p99, summary.max)),
        )
    return table


def _alerts_table(alerts: list[AlertRecord]) -> Table:
    table = Table(title=f"open alerts ({len(alerts)})")
    for column in ("severity", "rule", "column", "times", "last seen"):
        table.add_column(column, no_wrap=True)
    table.add_column("message", overflow="fold")
    for alert in alerts:
        severity = "[bold red]critical" if alert.severity == "critical" else alert.severity
        table.add_row(
            severity,
            alert.rule,
            alert.column or "",
            str(alert.occurrences),
            f"{alert.last_seen_at:%m-%d %H:%M}",
            alert.message,
        )
    return table


def _status_json(
    pipeline: str,
    windows: list[MonitoredWindow],
    failed: list[FailedWindow],
    open_alerts: list[AlertRecord],
) -> dict[str, Any]:
    latest = windows[-1] if windows else None
    return {
        "pipeline": pipeline,
        "windows": [_window_json(window) for window in windows],
        "failed_windows": [dataclasses.asdict(window) for window in failed],
        "latest_drift": [_dump(r) for r in latest.evaluation.drift] if latest else [],
        "latest_shift": _dump(_latest_shift(windows)),
        "latest_latency": {k: _dump(v) for k, v in _latest_latency(windows).items()},
        "open_alerts": [dataclasses.asdict(alert) for alert in open_alerts],
    }


def _window_json(window: MonitoredWindow) -> dict[str, Any]:
    evaluation = window.evaluation
    return {
        "kind": window.kind,
        "start": window.start,
        "end": window.end,
        "run_id": window.run_id,
        "rows": _rows(window),
        "drifted": [f"{r.method}:{r.column}" for r in evaluation.drift if r.drifted],
        "drift_checked": evaluation.drift_checked,
        "not_checked": [f"{r.method}:{r.column}" for r in evaluation.drift if r.value is None],
        "drift_windows": evaluation.drift_windows,
        "drift_rows": evaluation.drift_rows,
        "shift_z": evaluation.shift.z if evaluation.shift else None,
        "shifted": evaluation.shift.shifted if evaluation.shift else None,
        "alerts": [f"{a.rule}:{a.column}" for a in evaluation.alerts],
    }


def _dump(model: DriftResult | ShiftResult | LatencySummary | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


def _when(window: MonitoredWindow) -> str:
    return f"{window.start:%Y-%m-%d %H:%M}" if window.start else "?"


def _z(shift: ShiftResult | None) -> str:
    if shift is None:
        return ""
    z = "n/a" if shift.z is None else f"{shift.z:+.2f}"
    return f"[bold red]{z}[/]" if shift.shifted else z


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.1f}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
