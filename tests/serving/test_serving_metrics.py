"""GET /metrics: Prometheus text with the serving metrics, one registry per app."""

from __future__ import annotations

import httpx
from _server import running
from prometheus_client.parser import text_string_to_metric_families

from _projects import fitted_model
from shipml.project.project import Project
from shipml.serving import create_app


def _samples(url: str) -> Samples:
    """Every sample of GET /metrics, keyed by name and labels."""
    text = httpx.get(f"{url}/metrics").text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _value(samples: Samples, metric: str, labels: dict[str, str] | None = None) -> float:
    return samples.get((metric, frozenset((labels or {}).items())), 0.0)


def test_requests_steps_validation_predictions_and_model_are_measured(
    base_url: str, record: dict[str, object]
) -> None:
    for _ in range(3):
        httpx.post(f"{base_url}/predict", json=[record, record])
    httpx.post(f"{base_url}/predict", json=[{**record, "temperature_c": 999.0, "x": 1}] * 2)
    httpx.post(f"{base_url}/predict", json={"machine_id": "M-1", "ts": record["ts"], "made_up": 1})
    httpx.get(f"{base_url}/no/such/page")

    samples = _samples(base_url)

    requests = "shipml_requests_total"
    assert _value(samples, requests, {"endpoint": "/predict", "status": "200"}) == 3
    assert _value(samples, requests, {"endpoint": "/predict", "status": "422"}) == 2
    assert _value(samples, requests, {"endpoint": "(other)", "status": "404"}) == 1
    duration = "shipml_request_duration_seconds_count"
    assert _value(samples, duration, {"endpoint": "/predict"}) == 5
    for step in ("featurize", "predict"):
        assert _value(samples, "shipml_step_duration_seconds_count", {"step": step}) >= 3
    failures = "shipml_validation_failures_total"
    where = {"boundary": "featurize.input", "column": "temperature_c"}
    assert _value(samples, failures, {**where, "rule": "less_than_equal"}) == 2
    assert _value(samples, failures, {**where, "rule": "missing"}) == 1
    assert _value(samples, "shipml_prediction_value_count") == 6
    assert _value(samples, "shipml_batch_records_sum") >= 6
    model = {"name": "toy", "version": "1", "alias": "champion"}
    assert _value(samples, "shipml_model_info", model) == 1


def test_each_app_counts_in_its_own_registry(project: Project, record: dict[str, object]) -> None:
    first = create_app(project, model=fitted_model(project.root))
    second = create_app(project, model=fitted_model(project.root))
    with running(first) as first_url, running(second) as second_url:
        httpx.post(f"{first_url}/predict", json=record)
        counted = _samples(first_url), _samples(second_url)

    answered = {"endpoint": "/predict", "status": "200"}
    assert [_value(samples, "shipml_requests_total", answered) for samples in counted] == [1, 0]
