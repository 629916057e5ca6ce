"""Failed and small windows in the report, as Chromium draws it: the figures plotly rendered
(not only the JSON shipml wrote) mark the failed windows, grey out drift that could not be
judged, and put every time axis, alerts included, on window time."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _chromium import chromium
from _monitored import CONFIG, START, STEP, alert, baseline, monitored_windows, readings
from shipml.monitoring import evaluate_window, profile
from shipml.project.failures import FailedWindow
from shipml.project.report import CHART_IDS, FAILED_TRACE, NOT_CHECKED, render_report

TIME_CHARTS = ("drift", "shift", "latency", "alerts")

# Once every chart is drawn, write what plotly holds for each: its traces (names, x, z) and
# the x axis it laid out, plus the red bands (shapes).
PROBE = """
<script>
const CHARTS = %s;
const plain = (v) => (v && typeof v === "object" && "length" in v) ? Array.from(v, plain) : v;
addEventListener("load", () => {
  const started = Date.now();
  const timer = setInterval(() => {
    const drawn = CHARTS.filter((id) => document.querySelector(`#chart-${id} .main-svg`));
    if (drawn.length < CHARTS.length && Date.now() - started < 20000) return;
    clearInterval(timer);
    const seen = {};
    for (const id of drawn) {
      const chart = document.getElementById(`chart-${id}`);
      seen[id] = {
        traces: chart._fullData.map((t) => ({name: t.name, type: t.type, x: plain(t.x),
                                        z: plain(t.z), text: plain(t.text)})),
        xrange: chart._fullLayout.xaxis.range,
        xtype: chart._fullLayout.xaxis.type,
        bands: (chart._fullLayout.shapes || []).filter((s) => s.type === "rect").length,
      };
    }
    const result = document.createElement("pre");
    result.id = "probe-result";
    result.textContent = JSON.stringify(seen);
    document.body.appendChild(result);
  }, 50);
});
</script>
"""


def small_window(number: int) -> Any:
    """A monitored window of 20 rows: too few to judge drift on."""
    window = profile(readings(np.random.default_rng(number), 20), baseline().spec)
    return evaluate_window(baseline(), window, None, CONFIG)


def failed(number: int, reason: str) -> FailedWindow:
    start = START + number * STEP
    return FailedWindow("batch", start, start + STEP, f"run-f{number}", reason, None, 900, 630, 270)


def rendered(page: str, tmp_path: Path) -> dict[str, Any]:
    """What Chromium's plotly drew for each chart."""
    report = tmp_path / "report.html"
    probe = PROBE % json.dumps(list(CHART_IDS))
    report.write_text(page.replace("<head>", "<head>" + probe, 1), encoding="utf-8")
    dumped = chromium(
        "--dump-dom",
        f"--screenshot={tmp_path / 'report.png'}",
        "--window-size=1280,3600",
        report.as_uri(),
        profile_dir=tmp_path / "profile",
    )
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', dumped.stdout, re.S)
    assert found is not None, f"the probe did not report; chromium said: {dumped.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def on_axis(moment: datetime) -> float:
    return moment.timestamp() * 1000.0


def axis_ms(value: str | float) -> float:
    """A plotly date-axis bound ("2026-11-01 02:30" or ms) in ms since the epoch (UTC)."""
    if isinstance(value, int | float):
        return float(value)
    return (
        datetime.fromisoformat(value + "+00:00" if "+" not in value else value).timestamp() * 1000
    )


@pytest.mark.slow
def test_failed_and_small_windows_are_drawn_on_window_time(tmp_path: Path) -> None:
    windows = monitored_windows(10)
    for number in (6, 7):  # two small windows: drift not checked
        windows[number] = replace(windows[number], evaluation=small_window(number))
    failures = [
        failed(3, "270 of 900 rows invalid at featurize.input: column 'ts' switched to MM/DD")
    ]
    del windows[3]  # a failed window has no profile
    backfilled = replace(  # raised when windows 1-4 were backfilled a month later
        alert(1, closed=True),
        first_window_start=START + 1 * STEP,
        closed_window_start=START + 4 * STEP,
        opened_at=START + timedelta(days=30),
        closed_at=START + timedelta(days=30, minutes=2),
        last_seen_at=START + timedelta(days=30, minutes=1),
    )

    page = render_report("toy", baseline(), windows, [backfilled], failed=failures)
    seen = rendered(page, tmp_path)

    assert sorted(seen) == sorted(CHART_IDS)
    first, last = START, START + 10 * STEP
    for chart in TIME_CHARTS:
        low, high = (axis_ms(bound) for bound in seen[chart]["xrange"])
        assert seen[chart]["xtype"] == "date"
        assert (low, high) == (on_axis(first), on_axis(last)), chart  # window time, no bogus axis
        [marker] = [t for t in seen[chart]["traces"] if t["name"] == FAILED_TRACE]
        assert marker["x"] == [on_axis(START + 3 * STEP)], chart
        assert "column 'ts' switched to MM/DD" in marker["text"][0]
        assert seen[chart]["bands"] == 1, chart
    scores, unchecked = [t for t in seen["drift"]["traces"] if t["type"] == "heatmap"]
    assert unchecked["name"] == NOT_CHECKED
    grey = np.asarray(unchecked["z"], dtype=float)
    judged = np.asarray(scores["z"], dtype=float)
    columns_of = {on_axis(w.start): i for i, w in enumerate(windows)}
    for number in (6, 7):
        column = columns_of[on_axis(START + number * STEP)]
        assert (grey[:, column] == 1).all() and np.isnan(judged[:, column]).all()
    assert np.isfinite(judged).sum() > 0.5 * judged.size  # the other windows are judged
    [line] = [t for t in seen["alerts"]["traces"] if t["name"] == "warning"]
    assert line["x"][:2] == [on_axis(START + 1 * STEP), on_axis(START + 4 * STEP)]
