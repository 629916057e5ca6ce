"""The promotion gate, alias history and rollback on a real MLflow registry (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from _postgres import make_postgres_database
from _projects import WINDOW_START
from _promotion import INVERTED, TwoVersions, two_versions
from shipml.cli import app
from shipml.errors import PromotionRefused, RegistryError
from shipml.project import promote, rollback, run_window
from shipml.windows import Window

WINDOW = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def versions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoVersions]:
    """v1 (good, champion) and v2 (worse) in a SQLite or a PostgreSQL registry and store."""
    directory = tmp_path_factory.mktemp(f"promotion_{request.param}")
    if request.param == "sqlite":
        yield two_versions(directory)
        return
    with (
        make_postgres_database("shipml_registry") as registry,
        make_postgres_database("shipml_store") as store,
    ):
        settings = (
            f'\n[tracking]\nuri = "{registry.render_as_string(hide_password=False)}"\n'
            f'\n[store]\nurl = "{store.render_as_string(hide_password=False)}"\n'
        )
        yield two_versions(directory, settings)


def shipml(*arguments: str) -> tuple[int, str]:
    """Exit code and what was printed (stdout only with --json)."""
    outcome = CliRunner().invoke(app, list(arguments))
    return outcome.exit_code, outcome.stdout if "--json" in arguments else outcome.output


def test_a_worse_candidate_is_refused_and_the_refusal_recorded(versions: TwoVersions) -> None:
    project = versions.project(champion=versions.good)

    with pytest.raises(PromotionRefused, match="roc_auc dropped by"):
        promote(project, versions.worse)

    assert project.tracker.current("champion") == versions.good
    [refusal] = project.store.alias_moves(project.tracker.model_name, "champion", limit=1)
    assert (refusal.outcome, refusal.reason, refusal.forced) == ("refused", "manual", False)
    assert (refusal.from_version, refusal.to_version) == (versions.good, versions.worse)
    assert refusal.gate_passed is False and "@" in refusal.moved_by
    assert refusal.gate is not None
    rows = {row["metric"]: row for row in refusal.gate["rows"]}
    assert rows["roc_auc"]["candidate"] < 0.3 < 0.8 < rows["roc_auc"]["champion"]
    assert refusal.gate["evaluated_on"] == f"holdout of v{versions.worse} (400 rows)"


def test_the_cli_prints_the_comparison_and_exits_1_on_refusal(versions: TwoVersions) -> None:
    versions.project(champion=versions.good)

    code, output = shipml("promote", versions.worse, "--project", str(versions.directory))

    assert code == 1
    assert "roc_auc (gated)" in output and "refused" in output
    assert f"stays on v{versions.good}" in output


def test_force_promotes_and_is_recorded_as_forced(versions: TwoVersions) -> None:
    project = versions.project(champion=versions.good)

    code, output = shipml(
        "promote", versions.worse, "--force", "--note", "hotfix",
        "--project", str(versions.directory), "--json",
    )  # fmt: skip

    assert code == 0, output
    printed = json.loads(output)
    assert printed["gate"]["passed"] is False
    assert project.tracker.current("champion") == versions.worse
    [forced] = project.store.alias_moves(project.tracker.model_name, "champion", limit=1)
    assert (forced.outcome, forced.forced, forced.gate_passed) == ("moved", True, False)
    assert forced.note == "hotfix" and forced.id == printed["move"]["id"]


def test_rollback_returns_to_the_previous_version(versions: TwoVersions) -> None:
    project = versions.project(champion=versions.good)
    promote(project, versions.worse, force=True)

    back = rollback(project)

    assert project.tracker.current("champion") == versions.good
    assert (back.record.reason, back.record.from_version) == ("rollback", versions.worse)
    code, output = shipml("models", "history", "--project", str(versions.directory), "--json")
    assert code == 0
    latest, forced = json.loads(output)[:2]
    assert (latest["reason"], latest["to_version"]) == ("rollback", versions.good)
    assert (forced["forced"], forced["to_version"]) == (True, versions.worse)
    code, output = shipml("models", "history", "--project", str(versions.directory))
    assert code == 0 and "rollback" in output and "forced:" in output


def test_rollback_refuses_when_no_earlier_version_is_known(versions: TwoVersions) -> None:
    project = versions.project(champion=versions.good)
    promote(project, versions.good)  # recorded v1 -> v1: nothing earlier to go back to

    with pytest.raises(RegistryError, match="no earlier version"):
        rollback(project)

    project.tracker.promote(versions.worse)  # moved outside shipml: not in the history
    code, output = shipml("rollback", "--project", str(versions.directory))
    assert code == 2 and "moved outside shipml" in " ".join(output.split())


def test_a_window_run_links_to_the_move_that_set_its_model(versions: TwoVersions) -> None:
    project = versions.project(champion=versions.worse)
    move = promote(project, versions.good)  # better than the champion: the gate passes

    outcome = run_window(project, WINDOW, force=True)

    detail = project.store.run(outcome.run_id or "")
    assert detail.run.model_version == versions.good
    assert detail.alias_move is not None and detail.alias_move.id == move.record.id
    assert move.verdict is not None and move.verdict.passed
    code, output = shipml("lineage", detail.run.id, "--project", str(versions.directory))
    assert code == 0 and f"move #{move.record.id}" in output


def test_train_promote_goes_through_the_same_gate(versions: TwoVersions) -> None:
    project = versions.project(champion=versions.good)

    code, output = shipml(
        "train", "--data", str(versions.directory / INVERTED), "--promote", "champion",
        "--project", str(versions.directory), "--json",
    )  # fmt: skip

    assert code == 1
    printed = json.loads(output)
    assert printed["promotion"]["gate"]["passed"] is False
    assert project.tracker.current("champion") == versions.good
    [refusal] = project.store.alias_moves(project.tracker.model_name, "champion", limit=1)
    assert refusal.outcome == "refused" and refusal.to_version == printed["model"]["version"]
