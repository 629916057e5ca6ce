"""The monitoring report: one self-contained HTML file that works offline.

Five plotly charts: feature drift per window as a heatmap of score / threshold, the
prediction-shift z-score per window against +/- k, the prediction distribution of the
baseline, of all windows shown and of the latest window, latency percentiles per window,
and an alerts timeline; when a challenger was scored in shadow beside the champion (online
windows), its agreement per window, both models' prediction distributions and a table per
window (records, agreement, dropped, failed, the challenger's latency); then tables of the
failed windows, of the latest window's drift checks and of the open alerts.

Every time axis is window time (when the data happened, not when it was run, so a
backfill reads right), spans exactly the windows shown, and marks each failed window with
a red band and a red cross whose hover gives the diagnosis. Drift checks that had too few
values (fewer than `drift_min_rows`, even over recent windows merged) are grey cells,
"not checked (n < min)", never an empty heatmap.

No CDN: plotly.js is embedded once. It is 4.8 MB as text, so it is embedded gzipped and
base64-encoded (1.96 MB) and inflated by the browser with `DecompressionStream` (Chrome
80+, Firefox 113+, Safari 16.4+); the figures are drawn once it is loaded. Series are
embedded as typed arrays (float32 values, float64 timestamps): 1,000 windows of 15
columns add about 0.2 MB.
"""

from shipml.project.report._charts import NOT_CHECKED
from shipml.project.report._render import CHART_IDS, render_report
from shipml.project.report._time import FAILED_TRACE

__all__ = ["CHART_IDS", "FAILED_TRACE", "NOT_CHECKED", "render_report"]
