"""The alerting rules, checked and unit-tested by Prometheus' own promtool (Debian's)."""

from __future__ import annotations

import shutil
import subprocess

from _image_venv import DEPLOY

RULES = DEPLOY / "prometheus-alerts.yml"
RULE_TESTS = DEPLOY / "prometheus-alerts.test.yml"


def promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool is not None, "promtool comes with Debian's prometheus package (.ci/run)"
    return subprocess.run([tool, *arguments], capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_rules() -> None:
    checked = promtool("check", "rules", str(RULES))

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout


def test_each_alert_fires_on_its_problem_and_stays_quiet_on_a_clean_series() -> None:
    tested = promtool("test", "rules", str(RULE_TESTS))

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    rules = RULES.read_text()
    tests = RULE_TESTS.read_text()
    alerts = [line.split(":")[1].strip() for line in rules.splitlines() if "- alert:" in line]

    assert len(alerts) == 10
    for alert in alerts:
        cases = tests.split(f"alertname: {alert}\n")[1:]
        outcomes = {case.lstrip().startswith("exp_alerts: []") for case in cases}
        assert outcomes == {True, False}, alert
