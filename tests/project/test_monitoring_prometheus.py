"""Monitoring results as Prometheus gauges: on a registry, in a textfile, pushed to a gateway."""

from __future__ import annotations

import logging
import math
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from _http_server import Reply, http_server
from _monitored import START, alert, monitored_windows
from shipml.monitoring import MonitoringError
from shipml.project.prometheus import (
    publish_batch_metrics,
    push_metrics,
    register_monitoring_metrics,
    write_textfile,
)

HOT = monitored_windows(8)[-1].evaluation  # drifted, shifted and slow
CALM = monitored_windows(8)[1].evaluation


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_an_evaluation_sets_drift_shift_and_latency_gauges() -> None:
    registry = CollectorRegistry()
    metrics = register_monitoring_metrics(registry, "toy")

    metrics.update(HOT, window_end=START + timedelta(minutes=15))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"pipeline": "toy", **labels})

    psi = next(r for r in HOT.drift if r.column == "sensor_0" and r.method == "psi")
    assert value("shipml_feature_drift_score", column="sensor_0", method="psi") == psi.value
    assert value("shipml_feature_drift_threshold", column="sensor_0", method="psi") == 0.2
    assert value("shipml_prediction_shift_zscore") == pytest.approx(HOT.shift.z)
    assert value("shipml_prediction_shift_k") == 2.0
    p99 = HOT.latency["total"].p99
    assert value("shipml_window_latency_seconds", step="total", quantile="0.99") == p99
    assert value("shipml_monitoring_last_window_timestamp_seconds") == START.timestamp() + 900


def test_open_alerts_are_counted_and_drop_to_zero_when_closed() -> None:
    registry = CollectorRegistry()
    metrics = register_monitoring_metrics(registry, "toy")

    metrics.set_open_alerts([alert(1), alert(2, column="sensor_4"), alert(3, closed=True)])
    both_open = registry.get_sample_value(
        "shipml_alerts_open", {"pipeline": "toy", "rule": "drift.psi", "severity": "warning"}
    )
    metrics.set_open_alerts([])
    none_open = registry.get_sample_value(
        "shipml_alerts_open", {"pipeline": "toy", "rule": "drift.psi", "severity": "warning"}
    )

    assert (both_open, none_open) == (2, 0)


def test_a_calm_window_replaces_the_hot_one() -> None:
    registry = CollectorRegistry()
    metrics = register_monitoring_metrics(registry, "toy")

    metrics.update(HOT)
    metrics.update(CALM)

    z = registry.get_sample_value("shipml_prediction_shift_zscore", {"pipeline": "toy"})
    assert z == pytest.approx(CALM.shift.z)
    assert abs(z) < 2


def test_the_textfile_is_written_whole_for_node_exporter(tmp_path: Path) -> None:
    path = tmp_path / "shipml_toy.prom"

    write_textfile(path, "toy", HOT, [alert(1)], window_end=START)

    written = samples(path.read_text())
    labels = (("column", "sensor_0"), ("method", "psi"), ("pipeline", "toy"))
    assert written[("shipml_feature_drift_score", labels)] > 0.2
    assert (
        written[
            (
                "shipml_alerts_open",
                (("pipeline", "toy"), ("rule", "drift.psi"), ("severity", "warning")),
            )
        ]
        == 1
    )
    assert [p.name for p in tmp_path.iterdir()] == ["shipml_toy.prom"]  # no temporary file left


def test_the_textfile_must_be_a_prom_file_in_an_existing_directory(tmp_path: Path) -> None:
    with pytest.raises(MonitoringError, match=r"only reads \*.prom files"):
        write_textfile(tmp_path / "metrics.txt", "toy", HOT)
    with pytest.raises(MonitoringError, match="does not exist"):
        write_textfile(tmp_path / "missing" / "toy.prom", "toy", HOT)


def test_metrics_are_pushed_to_the_pipelines_group_on_a_gateway() -> None:
    with http_server(Reply(200)) as gateway:
        push_metrics(gateway.url, "toy", HOT, window_end=START)

    ((method, path, body),) = gateway.requests
    assert (method, path) == ("PUT", "/metrics/job/shipml_batch/pipeline/toy")
    pushed = samples(body.decode())
    assert math.isclose(
        pushed[("shipml_prediction_shift_zscore", (("pipeline", "toy"),))],
        HOT.shift.z,
        rel_tol=1e-9,
    )


def test_an_unreachable_gateway_is_a_clear_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(MonitoringError, match="cannot push metrics to the Pushgateway"):
        push_metrics(f"http://127.0.0.1:{port}", "toy", HOT, timeout_seconds=2)


def test_publishing_logs_a_failed_push_and_still_writes_the_textfile(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with http_server(Reply(500)) as gateway, caplog.at_level(logging.WARNING):
        published = publish_batch_metrics(
            "toy", HOT, textfile=tmp_path / "toy.prom", gateway_url=gateway.url
        )

    assert not published
    assert (tmp_path / "toy.prom").exists()
    assert "monitoring metrics of toy not pushed" in caplog.text


def test_nothing_is_published_unless_configured(tmp_path: Path) -> None:
    assert publish_batch_metrics("toy", HOT)
    assert list(tmp_path.iterdir()) == []
