"""The HTML report: one offline file with five charts, small even for 1,000 windows."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import numpy as np
import pytest

from _monitored import START, alert, baseline, monitored_windows
from shipml.monitoring import MonitoringError
from shipml.project.report import CHART_IDS, render_report

FIGURE = re.compile(
    r'<script type="application/json" class="shipml-figure" '
    r'data-chart="chart-(\w+)">(.*?)</script>',
    re.S,
)


def figures(page: str) -> dict[str, dict[str, Any]]:
    """The plotly figures embedded in the page, by chart id."""
    return {chart: json.loads(body) for chart, body in FIGURE.findall(page)}


def values(array: Any) -> np.ndarray:
    """A trace's array: plain JSON, or plotly's typed array {dtype, bdata, shape}."""
    if not isinstance(array, dict):
        return np.asarray(array)
    decoded = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    shape = array.get("shape")
    return decoded.reshape([int(n) for n in shape.split(",")]) if shape else decoded


def test_a_report_of_1000_windows_is_one_offline_file_under_5_mb() -> None:
    alerts = [
        alert(n, closed=n % 2 == 0, severity="critical" if n % 3 else "warning")
        for n in range(0, 1000, 20)
    ]

    page = render_report("toy", baseline(), monitored_windows(1000), alerts)

    size = len(page.encode("utf-8"))
    print(f"report of 1000 windows x 15 columns: {size / 1e6:.2f} MB")
    assert size < 5_000_000
    assert re.search(r"<script[^>]+src=", page) is None  # nothing loaded from elsewhere
    assert "<link" not in page
    assert page.count('id="plotly-gzip"') == 1
    assert set(figures(page)) == set(CHART_IDS)


def test_the_drift_heatmap_has_a_row_per_column_and_a_cell_per_window() -> None:
    windows = monitored_windows(8)

    drift = figures(render_report("toy", baseline(), windows, []))["drift"]

    heatmap, unchecked = drift["data"]  # scores, and the grey cells of checks not judged
    assert np.isnan(values(unchecked["z"])).all()  # every window had enough rows
    ratios = values(heatmap["z"])
    assert ratios.shape == (15, 8)
    rows = heatmap["y"]
    assert "sensor_0 (psi)" in rows and "mode (jensen_shannon)" in rows
    hot = ratios[rows.index("sensor_0 (psi)")]
    assert (hot[:5] < 1).all() and (hot[5:] > 1).all()  # calm, then drifted
    assert values(heatmap["x"])[0] == START.timestamp() * 1000


def test_shift_latency_and_predictions_show_the_windows() -> None:
    windows = monitored_windows(8)

    charts = figures(render_report("toy", baseline(), windows, []))

    z_line, shifted = charts["shift"]["data"]
    assert len(values(z_line["y"])) == 8
    assert len(values(shifted["x"])) == 3  # the three hot windows
    latency = {trace["name"]: values(trace["y"]) for trace in charts["latency"]["data"]}
    assert set(latency) == {"p50", "p95", "p99"}
    assert (latency["p50"] <= latency["p99"]).all()
    assert latency["p99"][7] == pytest.approx(
        windows[7].evaluation.latency["total"].p99 * 1000, rel=1e-6
    )
    bars = {trace["name"]: values(trace["y"]) for trace in charts["predictions"]["data"]}
    assert set(bars) == {"baseline", "windows shown", "latest window"}
    for shares in bars.values():
        assert shares.sum() == pytest.approx(1.0, abs=1e-5)


def test_alerts_appear_on_the_timeline_and_open_ones_in_the_table() -> None:
    alerts = [
        alert(1, closed=True),
        alert(2, rule="prediction_shift", column="failure_probability", severity="critical"),
    ]

    page = render_report("toy", baseline(), monitored_windows(8), alerts)

    traces = {trace["name"]: trace for trace in figures(page)["alerts"]["data"]}
    assert set(traces) == {"warning", "critical"}
    assert "prediction_shift · failure_probability" in page
    table = page[page.index('<section id="open-alerts">') :]
    assert "prediction_shift" in table and "drift.psi" not in table


def test_text_from_the_data_is_escaped() -> None:
    hostile = alert(1, column="<img src=x onerror=alert(1)>")

    page = render_report("<b>toy</b>", baseline(), monitored_windows(2), [hostile])

    assert "<img src=x" not in page
    assert "<b>toy</b>" not in page
    assert "&lt;b&gt;toy&lt;/b&gt;" in page


def test_there_is_no_report_without_windows() -> None:
    with pytest.raises(MonitoringError, match="no monitored windows of 'toy'"):
        render_report("toy", baseline(), [], [])


def test_a_report_without_baseline_still_compares_the_windows() -> None:
    page = render_report("toy", None, monitored_windows(8), [])

    names = {trace["name"] for trace in figures(page)["predictions"]["data"]}
    assert names == {"windows shown", "latest window"}
    assert "none stored" in page
