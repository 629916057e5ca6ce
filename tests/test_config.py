"""shipml.toml: defaults, every section, environment overrides and readable errors."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from shipml.config import ConfigError, Settings, load_settings
from shipml.windows import Cron

MINIMAL = '[project]\nname = "sensors"\n'

FULL = """
[project]
name = "sensors"
pipeline = "flows.main:pipeline"

[source]
kind = "files"
path = "data/readings/{start:%Y-%m-%dT%H%M}.csv"

[training]
data = "data/train.parquet"
target = "failure"
holdout_fraction = 0.25
time_column = "ts"
task = "classification"
prediction = "failure_probability"

[output]
kind = "sql"
url = "sqlite:///out/predictions.db"
table = "scores"

[schedule]
cron = "*/10 * * * *"
timezone = "Europe/Paris"
catch_up_max = 12
missing_input_retries = 5
missing_input_backoff = "30s"

[validation]
policy = "quarantine"
max_invalid_fraction = 0.1

[validation.boundaries]
preprocess = "fail"
"predict.output" = "fail"

[model]
name = "sensor-failure"
alias = "production"

[tracking]
uri = "sqlite:///mlruns/tracking.db"
artifacts = "mlruns/artifacts"

[store]
url = "postgresql+psycopg://shipml:s3cret@db.internal/shipml"

[monitoring]
k_sigma = 3.0
latency_p99_seconds = 0.25
fail_on_critical = true

[monitoring.thresholds]
psi = 0.25
ks = 0.15

[monitoring.columns.temperature_c]
method = "ks"
threshold = 0.3

[alerts]
webhook_timeout_seconds = 2.5
webhook_retries = 1

[serving]
host = "0.0.0.0"
port = 9000
workers = 2
max_records = 500
max_body_bytes = 65536
batch_wait_ms = 5
metrics_require_auth = true
"""


@pytest.fixture(autouse=True)
def _no_shipml_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the SHIPML_* variables it sets itself."""
    for name in list(os.environ):
        if name.upper().startswith("SHIPML_"):
            monkeypatch.delenv(name)


def project(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "shipml.toml").write_text(toml)
    return tmp_path


def config_error(tmp_path: Path, toml: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(project(tmp_path, toml))
    return str(caught.value)


def test_a_minimal_file_gets_defaults_anchored_in_the_project(tmp_path: Path) -> None:
    settings = load_settings(project(tmp_path, MINIMAL))
    home = tmp_path.resolve()
    assert settings.project.name == "sensors"
    assert settings.project.pipeline == "pipeline:pipeline"
    assert settings.project_dir == home
    assert settings.source is None and settings.training is None
    assert settings.output.kind == "parquet"
    assert settings.output.path == home / "outputs"
    assert settings.schedule.every == timedelta(minutes=15)
    assert settings.schedule.cadence() == timedelta(minutes=15)
    assert settings.schedule.catch_up_max == 96
    assert settings.validation.policy == "fail"
    assert settings.validation.max_invalid_fraction == 0.05
    assert settings.model.name == "sensors" and settings.model.alias == "champion"
    assert settings.tracking.uri == f"sqlite:///{home}/.shipml/mlflow.db"
    assert settings.tracking.artifacts == home / ".shipml" / "mlartifacts"
    assert settings.store.url == f"sqlite:///{home}/.shipml/shipml.db"
    assert settings.monitoring.k_sigma == 2.0
    assert settings.monitoring.numeric_method == "psi" and settings.monitoring.thresholds == {}
    assert settings.serving.max_records == 1000 and settings.serving.batch_wait_ms == 2
    assert settings.serving.api_key is None and settings.alerts.webhook_url is None


def test_a_full_file_sets_every_section(tmp_path: Path) -> None:
    settings = load_settings(project(tmp_path, FULL))
    home = tmp_path.resolve()
    assert settings.project.pipeline == "flows.main:pipeline"
    assert settings.source is not None and settings.source.is_template
    assert settings.source.path == f"{home}/data/readings/{{start:%Y-%m-%dT%H%M}}.csv"
    assert settings.training is not None
    assert settings.training.data == home / "data" / "train.parquet"
    assert settings.training.holdout_fraction == 0.25 and settings.training.time_column == "ts"
    assert settings.training.prediction == "failure_probability"
    assert settings.output.url == f"sqlite:///{home}/out/predictions.db"
    assert settings.output.table == "scores"
    assert settings.schedule.every is None
    assert settings.schedule.cadence() == Cron("*/10 * * * *", "Europe/Paris")
    assert settings.schedule.missing_input_backoff == timedelta(seconds=30)
    assert settings.validation.policy_for("predict.output") == "fail"
    assert settings.validation.policy_for("preprocess.input") == "fail"
    assert settings.validation.policy_for("featurize.output") == "quarantine"
    assert settings.model.name == "sensor-failure" and settings.model.alias == "production"
    assert settings.tracking.uri == f"sqlite:///{home}/mlruns/tracking.db"
    assert settings.tracking.artifacts == home / "mlruns" / "artifacts"
    assert settings.store.url == "postgresql+psycopg://shipml:s3cret@db.internal/shipml"
    rules = settings.monitoring
    assert rules.k_sigma == 3.0 and rules.latency_budgets_seconds == {"total": 0.25}
    assert rules.method_for("temperature_c", "numeric") == ("ks", 0.3)
    assert rules.method_for("vibration", "numeric") == ("psi", 0.25)
    assert settings.monitoring.fail_on_critical is True
    assert settings.alerts.webhook_retries == 1
    assert (settings.serving.host, settings.serving.port, settings.serving.workers) == (
        "0.0.0.0",
        9000,
        2,
    )
    assert settings.serving.metrics_require_auth is True


def test_environment_variables_override_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPML_STORE__URL", "postgresql+psycopg://postgres@127.0.0.1/other")
    monkeypatch.setenv("SHIPML_SCHEDULE__EVERY", "1h")
    monkeypatch.setenv("SHIPML_SERVING__PORT", "8123")
    settings = load_settings(project(tmp_path, MINIMAL + '[store]\nurl = "sqlite:///x.db"\n'))
    assert settings.store.url == "postgresql+psycopg://postgres@127.0.0.1/other"
    assert settings.schedule.every == timedelta(hours=1)
    assert settings.serving.port == 8123


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPML_SERVING__API_KEY", "k-123")
    monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", "https://hooks.example/T0")
    settings = load_settings(project(tmp_path, MINIMAL))
    assert settings.serving.api_key is not None
    assert settings.serving.api_key.get_secret_value() == "k-123"
    assert settings.alerts.webhook_url is not None
    assert settings.alerts.webhook_url.get_secret_value() == "https://hooks.example/T0"
    assert "k-123" not in repr(settings)


@pytest.mark.parametrize(
    ("table", "key", "variable"),
    [
        ("serving", "api_key", "SHIPML_SERVING__API_KEY"),
        ("alerts", "webhook_url", "SHIPML_ALERTS__WEBHOOK_URL"),
    ],
)
def test_a_secret_in_the_file_is_refused(
    tmp_path: Path, table: str, key: str, variable: str
) -> None:
    message = config_error(tmp_path, MINIMAL + f'[{table}]\n{key} = "hunter2"\n')
    assert f"{table}.{key}: secrets are not read from the file" in message
    assert f"set the environment variable {variable}" in message
    assert "hunter2" not in message


def test_an_unknown_top_level_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + '[schedul]\nevery = "1h"\n')
    assert message == f"{tmp_path}/shipml.toml: schedul: unknown key; did you mean 'schedule'?"


def test_an_unknown_nested_key_is_named_with_the_known_keys(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[serving]\nthreads = 4\n")
    assert message.startswith(f"{tmp_path}/shipml.toml: serving.threads: unknown key; ")
    assert "expected one of: host, port, workers" in message


def test_an_unknown_key_under_a_per_column_table_is_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[monitoring.columns.speed]\nthreshhold = 0.3\n")
    assert "monitoring.columns.speed.threshhold: unknown key; did you mean 'threshold'?" in message


def test_a_wrong_duration_says_what_was_expected(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + '[schedule]\nevery = "often"\n')
    assert message == (
        f"{tmp_path}/shipml.toml: schedule.every: "
        "expected a duration like '15m' or '1h', got 'often'"
    )


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        ('[serving]\nport = "abc"', "serving.port: expected a whole number, got 'abc'"),
        ("[serving]\nport = 70000", "serving.port: input should be less than or equal to 65535"),
        ('[monitoring]\nk_sigma = "high"', "monitoring.k_sigma: expected a number, got 'high'"),
        ('[output]\nkind = "csv"', "output.kind: expected 'parquet' or 'sql', got 'csv'"),
        ('[validation]\npolicy = "drop"', "expected 'fail' or 'quarantine', got 'drop'"),
        ('[schedule]\ntimezone = "Mars/Olympus"', "schedule.timezone: expected an IANA time zone"),
        ('[schedule]\ncron = "sometimes"', "schedule.cron: expected a crontab expression"),
        ('[schedule]\nevery = "1h"\ncron = "0 * * * *"', "schedule: set either 'every' or 'cron'"),
        ('[store]\nurl = "not a url"', "store.url: expected a database URL"),
        ('[training]\ndata = "train.xlsx"\ntarget = "y"', "training.data: expected a path ending"),
        (
            '[validation.boundaries]\n"predict.outptu" = "fail"',
            "'predict.outptu' is not a boundary",
        ),
    ],
)
def test_a_wrong_value_is_named_with_what_was_expected(
    tmp_path: Path, tables: str, expected: str
) -> None:
    message = config_error(tmp_path, MINIMAL + tables + "\n")
    assert message.startswith(f"{tmp_path}/shipml.toml: ")
    assert expected in message


def test_a_section_that_is_not_a_table_is_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'schedule = "15m"\n' + MINIMAL)
    assert message == f"{tmp_path}/shipml.toml: schedule: expected a table, got '15m'"


def test_the_pipeline_must_be_module_colon_attribute(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[project]\nname = "p"\npipeline = "pipeline"\n')
    assert message == (
        f"{tmp_path}/shipml.toml: project.pipeline: "
        "expected 'module:attribute' like 'pipeline:pipeline', got 'pipeline'"
    )


def test_a_missing_project_name_is_reported(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[project]\npipeline = "p:p"\n')
    assert message == f"{tmp_path}/shipml.toml: project.name: required key is missing"


def test_every_problem_is_reported_one_per_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + '[serving]\nport = "x"\nworkers = "y"\n')
    lines = message.splitlines()
    assert len(lines) == 2
    assert "serving.port" in lines[0] and "serving.workers" in lines[1]


def test_a_wrong_environment_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPML_SERVING__PORT", "eighty")
    message = config_error(tmp_path, MINIMAL)
    assert message == (
        "environment variable SHIPML_SERVING__PORT: serving.port: "
        "expected a whole number, got 'eighty'"
    )


def test_an_environment_table_that_is_not_json_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPML_SERVING", "port=8080")
    message = config_error(tmp_path, MINIMAL)
    assert 'field "serving"' in message
    assert "set one key at a time instead, e.g. SHIPML_SERVING__PORT=8080" in message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('kind = "files"', "source.path: required when kind = 'files'"),
        ('path = "data/all.csv"', "source.time_column: required when source.path is one file"),
        ('path = "data/{day}.csv"', "unknown placeholder(s) ['day']"),
        ('kind = "sql"\nurl = "sqlite:///a.db"', "source.query: required when kind = 'sql'"),
        (
            'kind = "sql"\nurl = "sqlite:///a.db"\nquery = "select * from t where ts >= :start"',
            "exactly the bind parameters :start and :end, got ['start']",
        ),
        (
            'path = "d/{start:%Y}.csv"\nquery = "select 1"',
            "source.query: only used when kind = 'sql', but kind = 'files'",
        ),
    ],
)
def test_source_settings_are_checked_for_their_kind(
    tmp_path: Path, source: str, expected: str
) -> None:
    assert expected in config_error(tmp_path, MINIMAL + f"[source]\n{source}\n")


def test_a_single_source_file_with_a_time_column_is_accepted(tmp_path: Path) -> None:
    settings = load_settings(
        project(tmp_path, MINIMAL + '[source]\npath = "all.parquet"\ntime_column = "ts"\n')
    )
    assert settings.source is not None and not settings.source.is_template
    assert settings.source.path == f"{tmp_path.resolve()}/all.parquet"


def test_a_missing_file_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no shipml\.toml in .*\[project\] name = "):
        load_settings(tmp_path)


def test_a_missing_project_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"project directory .*nowhere does not exist"):
        load_settings(tmp_path / "nowhere")


def test_a_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, MINIMAL + "[schedule]\nevery 15m\n")
    assert message.startswith(f"{tmp_path}/shipml.toml: not valid TOML: ")
    assert "line 4" in message


def test_the_config_hash_is_stable_and_follows_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_settings(project(tmp_path, FULL)).config_hash()
    assert load_settings(tmp_path).config_hash() == first
    assert len(first) == 64
    monkeypatch.setenv("SHIPML_SERVING__API_KEY", "k-1")
    monkeypatch.setenv(
        "SHIPML_STORE__URL", "postgresql+psycopg://shipml:rotated@db.internal/shipml"
    )
    assert load_settings(tmp_path).config_hash() == first  # secrets and passwords are left out
    monkeypatch.setenv("SHIPML_MONITORING__K_SIGMA", "2.5")
    assert load_settings(tmp_path).config_hash() != first


def test_settings_built_in_code_are_not_tied_to_a_directory() -> None:
    settings = Settings(project={"name": "inline"})
    assert settings.output.path == Path("outputs")
    with pytest.raises(ConfigError, match="not loaded from a project directory"):
        _ = settings.project_dir


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        (
            '[project]\nname = "../evil"',
            "project.name: expected letters, digits, '_', '-' and '.' (it names files and "
            "directories), got '../evil'",
        ),
        ('[project]\nname = "a/b"', "project.name: expected letters, digits"),
        (
            '[project]\nname = "p"\n[store]\nurl = "oracle9://scott:tiger@db/x"',
            "store.url: unknown database kind 'oracle9' in 'oracle9://scott:***@db/x'",
        ),
        (
            '[project]\nname = "p"\n[store]\nurl = "mysql+pymysql://u:secret@db/x"',
            "store.url: the database driver of 'mysql+pymysql://u:***@db/x' is not installed",
        ),
        (
            '[project]\nname = "p"\n[source]\npath = "data/{start:%Y%m%dT%Q}.csv"',
            "source.path: %Q in template 'data/{start:%Y%m%dT%Q}.csv' is not a strftime code",
        ),
        (
            '[project]\nname = "p"\n[source]\npath = "data/{start:%H%M}.csv"',
            "source.path: 'data/{start:%H%M}.csv' does not name the year",
        ),
        (
            '[project]\nname = "p"\n[schedule]\ncron = "0 0 30 2 *"',
            "schedule.cron: the cron schedule '0 0 30 2 *' never fires",
        ),
        (
            '[project]\nname = "p"\n[source]\npath = "data/{start:%Y%m%dT%H%M}.csv"\n'
            'time_format = "%d/%m/%Y"',
            "source.time_format: only used with a time_column",
        ),
        (
            '[project]\nname = "p"\n[source]\npath = "all.csv"\ntime_column = "ts"\n'
            'time_format = "%d/%m/%Y %q"',
            "source.time_format: %q in time_format '%d/%m/%Y %q' is not a strftime code",
        ),
    ],
)
def test_config_that_could_do_harm_is_refused_in_one_line(
    tmp_path: Path, tables: str, expected: str
) -> None:
    message = config_error(tmp_path, tables + "\n")
    assert message.startswith(f"{tmp_path}/shipml.toml: ")
    assert "\n" not in message
    assert expected in message
    assert "secret" not in message and "tiger" not in message


def test_a_source_file_that_is_a_directory_is_named_as_one(tmp_path: Path) -> None:
    (tmp_path / "data" / "all.csv").mkdir(parents=True)
    message = config_error(
        tmp_path, MINIMAL + '[source]\npath = "data/all.csv"\ntime_column = "ts"\n'
    )
    assert message == (
        f"{tmp_path}/shipml.toml: source.path: {tmp_path}/data/all.csv is a directory, "
        "not a data file"
    )


def test_a_template_coarser_than_the_schedule_is_refused(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        MINIMAL + '[source]\npath = "data/{start:%Y%m%dT%H}.csv"\n[schedule]\nevery = "15m"\n',
    )
    assert message.startswith(f"{tmp_path}/shipml.toml: source.path: ")
    assert "names one file per hour but windows are 15m" in message
    assert "set time_column to cut each file to its window" in message


def test_the_same_template_is_accepted_when_files_are_cut_by_time(tmp_path: Path) -> None:
    settings = load_settings(
        project(
            tmp_path,
            MINIMAL + '[source]\npath = "data/{start:%Y%m%dT%H}.csv"\ntime_column = "ts"\n'
            'time_format = "%d/%m/%Y %H:%M"\n[schedule]\nevery = "15m"\n',
        )
    )
    assert settings.source is not None and settings.source.kind == "files"
    assert settings.source.time_format == "%d/%m/%Y %H:%M"


@pytest.mark.parametrize("name", ["../evil", "a/b"])
def test_shipml_run_with_a_name_that_is_a_path_says_so_in_one_line(
    tmp_path: Path, name: str
) -> None:
    from typer.testing import CliRunner

    from shipml.cli import app

    project(tmp_path, f'[project]\nname = "{name}"\n')
    outcome = CliRunner().invoke(app, ["run", "--project", str(tmp_path)])
    assert outcome.exit_code == 2
    lines = outcome.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "project.name: expected letters, digits, '_', '-' and '.'" in lines[0]
    assert not (tmp_path / "evil").exists() and not (tmp_path / "a").exists()


def test_a_cadence_from_elsewhere_is_checked_against_the_source(tmp_path: Path) -> None:
    settings = load_settings(
        project(tmp_path, MINIMAL + '[source]\npath = "data/{start:%Y%m%dT%H%M}.csv"\n')
    )
    settings.check_source_fits(timedelta(minutes=30))  # reads two 15-minute files each
    with pytest.raises(ConfigError, match=r"^source.path: .* names one file per minute but"):
        settings.check_source_fits(timedelta(seconds=1))


TRAINING = MINIMAL + '[training]\ndata = "train.csv"\ntarget = "diagnosis"\n'


@pytest.mark.parametrize(
    ("lines", "threshold", "positive_label"),
    [
        ("", 0.5, None),
        ('threshold = 0.3\npositive_label = "malignant"', 0.3, "malignant"),
        ('threshold = "F1"\npositive_label = true', "f1", True),
        ('threshold = "youden"\npositive_label = 1', "youden", 1),
    ],
)
def test_the_binary_decision_is_configured_by_threshold_and_positive_label(
    tmp_path: Path, lines: str, threshold: object, positive_label: object
) -> None:
    training = load_settings(project(tmp_path, f'{TRAINING}task = "binary"\n{lines}\n')).training

    assert training is not None and training.task == "binary"
    assert training.threshold == threshold
    assert training.positive_label == positive_label
    assert type(training.positive_label) is type(positive_label)


def test_the_threshold_comes_from_the_environment_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPML_TRAINING__THRESHOLD", "0.25")

    training = load_settings(project(tmp_path, TRAINING)).training

    assert training is not None and training.threshold == 0.25


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('threshold = "best"', "training.threshold: expected a number between 0 and 1, 'f1' or "
                               "'youden', got 'best'"),
        ("threshold = 1.5", "training.threshold: expected a number between 0 and 1"),
        ('task = "ranking"', "training.task: expected 'classification', 'binary', 'multiclass' "
                             "or 'regression', got 'ranking'"),
    ],
)  # fmt: skip
def test_a_wrong_task_or_threshold_is_one_line(tmp_path: Path, line: str, expected: str) -> None:
    message = config_error(tmp_path, f"{TRAINING}{line}\n")

    assert message.startswith(f"{tmp_path}/shipml.toml: {expected}")
    assert "\n" not in message
