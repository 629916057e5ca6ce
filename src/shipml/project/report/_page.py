"""The page around the charts: plotly.js embedded once, the figures' style, sections."""

from __future__ import annotations

import base64
import gzip
import html
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

SEVERITY_COLOURS = {"critical": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}


METRIC_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")


FAILED_COLOUR = "#c0392b"


_LAYOUT = {
    "template": "none",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "margin": {"l": 70, "r": 20, "t": 40, "b": 50},
    "hovermode": "closest",
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
}


_AXIS = {"showgrid": True, "gridcolor": "#e8e8e8", "zeroline": False, "automargin": True}


def iso(moment: datetime) -> str:
    """A moment as plotly's date text, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def styled(
    figure: go.Figure,
    height: int,
    *,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    **layout: Any,
) -> go.Figure:
    """The figure with the report's layout and axes."""
    figure.update_layout(
        **_LAYOUT,
        height=height,
        xaxis={**_AXIS, **(xaxis or {})},
        yaxis={**_AXIS, **(yaxis or {})},
        **layout,
    )
    return figure


def note(figure: go.Figure, text: str) -> None:
    """Write `text` under the figure."""
    figure.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": "#7f8c8d"},
    )


def chart_section(chart_id: str, title: str, note: str, figure: go.Figure) -> str:
    """A heading, a note, the chart's div and its figure as JSON (drawn by `LOADER`)."""
    # plotly's JSON escapes <, > and /, so it cannot close the script element early.
    return (
        f'<section id="{chart_id}"><h2>{html.escape(title)}</h2>'
        f'<p class="note">{html.escape(note)}</p>'
        f'<div id="chart-{chart_id}" class="chart"></div>'
        f'<script type="application/json" class="shipml-figure" data-chart="chart-{chart_id}">'
        f"{figure.to_json()}</script></section>"
    )


@cache
def plotly_gzip_base64() -> str:
    """plotly.js, gzipped (mtime 0: the same bytes every time) and base64-encoded."""
    packed = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def count(value: int | None) -> str:
    """A count as text (empty for none)."""
    return "" if value is None else str(value)


def table_section(
    section_id: str, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> str:
    """An HTML section with a table of `rows` under `header` (cells escaped)."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    if not rows:
        body = f"<tr><td colspan='{len(header)}'>none</td></tr>"
    return (
        f'<section id="{section_id}"><h2>{html.escape(title)}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def when(moment: datetime | None) -> str:
    """A moment as the tables show it ('?' for none)."""
    return "?" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
.note {{ color: #555; margin: 0.2em 0 0.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }}
table.facts th {{ color: #555; font-weight: normal; }}
.chart-error {{ color: #c0392b; font-weight: bold; }}
</style>
</head>
<body>
{body}
<script id="plotly-gzip" type="application/octet-stream">{plotly}</script>
<script>
{loader}
</script>
</body>
</html>
"""


LOADER = """
async function loadPlotly() {
  const packed = document.getElementById("plotly-gzip").textContent;
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const script = document.createElement("script");
  script.textContent = await new Response(stream).text();
  document.head.appendChild(script);
}
async function drawCharts() {
  await loadPlotly();
  for (const element of document.querySelectorAll("script.shipml-figure")) {
    const figure = JSON.parse(element.textContent);
    const config = {displaylogo: false, responsive: true};
    await Plotly.newPlot(element.dataset.chart, figure.data, figure.layout, config);
  }
}
drawCharts().catch((error) => {
  const message = document.createElement("p");
  message.className = "chart-error";
  message.textContent = "The charts could not be drawn in this browser: " + error;
  document.body.prepend(message);
  throw error;
});
"""
