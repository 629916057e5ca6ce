"""The report opened in real headless Chromium: no JavaScript error, every chart drawn.

The page gets a probe script (in this test only) that records errors and, once the charts
are drawn (or after 20 s), writes what it saw into the DOM, which `--dump-dom` prints; the
same run takes a screenshot, kept in the test's tmp directory.
Chromium comes from Debian's `chromium` package (`apt-get install -y chromium`).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from _chromium import chromium
from _monitored import alert, baseline, monitored_windows
from shipml.project.report import CHART_IDS, render_report

PROBE = """
<script>
window.probe = {errors: []};
addEventListener("error", (event) => probe.errors.push(String(event.message || event)));
addEventListener("unhandledrejection", (event) => probe.errors.push("rejected: " + event.reason));
const logError = console.error;
console.error = (...parts) => { probe.errors.push(parts.join(" ")); logError(...parts); };
addEventListener("load", () => {
  const started = Date.now();
  const timer = setInterval(() => {
    const drawn = CHARTS.filter((id) => document.querySelector(`#chart-${id} .main-svg`));
    if (drawn.length < CHARTS.length && Date.now() - started < 20000) return;
    clearInterval(timer);
    const result = document.createElement("pre");
    result.id = "probe-result";
    result.textContent = JSON.stringify({
      drawn: drawn,
      errors: probe.errors,
      failure: document.querySelector(".chart-error")?.textContent ?? null,
    });
    document.body.appendChild(result);
  }, 50);
});
</script>
"""


@pytest.mark.slow
def test_the_report_draws_every_chart_without_javascript_errors(tmp_path: Path) -> None:
    alerts = [alert(3, closed=True), alert(9, rule="prediction_shift", severity="critical")]
    page = render_report("toy", baseline(), monitored_windows(200), alerts)
    report = tmp_path / "report.html"
    charts = f"<script>const CHARTS = {json.dumps(list(CHART_IDS))};</script>"
    report.write_text(page.replace("<head>", "<head>" + charts + PROBE, 1), encoding="utf-8")

    screenshot = tmp_path / "report.png"
    dumped = chromium(
        "--dump-dom",
        f"--screenshot={screenshot}",
        "--window-size=1280,3200",
        report.as_uri(),
        profile_dir=tmp_path / "profile",
    )
    print(f"screenshot of the report: {screenshot}")

    found = re.search(r'<pre id="probe-result">(.*?)</pre>', dumped.stdout, re.S)
    assert found is not None, f"the probe did not report; chromium said: {dumped.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))
    assert result["errors"] == []
    assert result["failure"] is None
    assert sorted(result["drawn"]) == sorted(CHART_IDS)
    assert screenshot.stat().st_size > 50_000  # a page with charts, not a blank one
