"""`shipml.toml` -> typed settings: the file's values, overridden by SHIPML_* environment variables.

Nested keys come from the environment with `__`: `SHIPML_STORE__URL` sets `[store] url`.
Secrets (the serving API key, the alert webhook URL) are read from the environment only.
Relative paths, and relative SQLite database paths, resolve against the project directory.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import string
import tomllib
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from shipml.contracts import Policy
from shipml.monitoring import (
    DEFAULT_THRESHOLDS,
    END_TO_END,
    ColumnDriftRule,
    DriftConfig,
    DriftMethod,
    MonitoringConfig,
)
from shipml.monitoring.drift import DEFAULT_MIN_ROWS

if TYPE_CHECKING:
    from shipml.pipeline.windows import Cron

CONFIG_FILE = "shipml.toml"
ENV_PREFIX = "SHIPML_"
_ENV_ONLY = (("serving", "api_key"), ("alerts", "webhook_url"))
_URL_FIELDS = (("source", "url"), ("output", "url"), ("store", "url"), ("tracking", "uri"))
_DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
_TEMPLATE_FIELDS = {"start", "end"}
_SHOWN_INPUT_CHARS = 60

# The file `Settings()` reads; set by `load_settings` for the duration of one load.
_toml_file: ContextVar[Path | None] = ContextVar("shipml_toml_file", default=None)


class ConfigError(Exception):
    """A project configuration that cannot be used; the message names the key and the fix."""


def _duration(value: Any) -> Any:
    """Text like '15m' -> timedelta (a timedelta passes through)."""
    # Imported here: shipml.pipeline's package imports modules that import this one.
    from shipml.pipeline.windows import parse_interval

    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like '15m' or '1h', got {_show(value)}")
    return parse_interval(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _database_url(value: str | None) -> str | None:
    """Check that `value` parses as a SQLAlchemy database URL."""
    if value is None:
        return None
    try:
        make_url(value)
    except ArgumentError:
        raise ValueError(
            "expected a database URL like 'postgresql+psycopg://user@host/db' or "
            f"'sqlite:///data.db', got {_show(value)}"
        ) from None
    return value


def _data_file(value: str | Path) -> str | Path:
    """Check that a data path names a CSV or Parquet file."""
    if Path(str(value)).suffix.lower() not in _DATA_SUFFIXES:
        raise ValueError(
            f"expected a path ending in .csv, .tsv, .parquet or .pq, got {_show(str(value))}"
        )
    return value


class _Section(BaseModel):
    """A table of shipml.toml: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ProjectSettings(_Section):
    """[project]: the project's name and where its pipeline object lives."""

    name: str = Field(min_length=1)
    pipeline: str = "pipeline:pipeline"

    @field_validator("pipeline")
    @classmethod
    def _module_and_attribute(cls, value: str) -> str:
        module, _, attribute = value.partition(":")
        names = [*module.split("."), attribute]
        if not all(name.isidentifier() for name in names):
            raise ValueError(f"expected 'module:attribute' like 'pipeline:pipeline', got {value!r}")
        return value


class SourceSettings(_Section):
    """[source]: where each batch window's input comes from (files or a SQL query)."""

    kind: Literal["files", "sql"] = "files"
    path: str | None = Field(default=None, validate_default=True)
    time_column: str | None = Field(default=None, validate_default=True)
    url: str | None = Field(default=None, validate_default=True)
    query: str | None = Field(default=None, validate_default=True)

    @property
    def is_template(self) -> bool:
        """Whether `path` holds {start}/{end} placeholders (one file per window)."""
        return self.path is not None and bool(_template_fields(self.path))

    @field_validator("path")
    @classmethod
    def _path_fits_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not _needed_by(info, "files", value, "path"):
            return value
        assert value is not None
        _data_file(value)
        unknown = _template_fields(value) - _TEMPLATE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)} in {value!r}; "
                "only {start} and {end} (with an optional strftime format) are allowed"
            )
        return value

    @field_validator("time_column")
    @classmethod
    def _time_column_for_single_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind, path = info.data.get("kind"), info.data.get("path")
        if kind == "sql" and value is not None:
            raise ValueError("only used when kind = 'files', but kind = 'sql'")
        if kind == "files" and path is not None and value is None and not _template_fields(path):
            raise ValueError(
                "required when source.path is one file (no {start}/{end} placeholders): "
                "name the column that places each row in a window"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url_fits_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        if _needed_by(info, "sql", value, "url"):
            _database_url(value)
        return value

    @field_validator("query")
    @classmethod
    def _query_has_window_parameters(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not _needed_by(info, "sql", value, "query"):
            return value
        assert value is not None
        parameters = set(text(value).compile().params)
        if parameters != _TEMPLATE_FIELDS:
            raise ValueError(
                "expected a query with exactly the bind parameters :start and :end, "
                f"got {sorted(parameters)} in {_show(value)}"
            )
        return value

    def resolved(self, project_dir: Path) -> SourceSettings:
        """A copy with paths made absolute against `project_dir`."""
        return self.model_copy(
            update={
                "path": None if self.path is None else str(_absolute(project_dir, self.path)),
                "url": _sqlite_absolute(project_dir, self.url),
            }
        )


class TrainingSettings(_Section):
    """[training]: the data, its target, the held-out share and the prediction to score."""

    data: Annotated[Path, BeforeValidator(_data_file)]
    target: str = Field(min_length=1)
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1)
    time_column: str | None = None
    task: Literal["classification", "regression"] = "classification"
    prediction: str | None = None  # the output column to evaluate and monitor

    def resolved(self, project_dir: Path) -> TrainingSettings:
        """A copy with the data path made absolute against `project_dir`."""
        return self.model_copy(update={"data": _absolute(project_dir, self.data)})


class OutputSettings(_Section):
    """[output]: where each window's predictions go (Parquet files or a SQL table)."""

    kind: Literal["parquet", "sql"] = "parquet"
    path: Path = Path("outputs")
    url: str | None = Field(default=None, validate_default=True)
    table: str = "predictions"

    @field_validator("url")
    @classmethod
    def _url_fits_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        if _needed_by(info, "sql", value, "url"):
            _database_url(value)
        return value

    @field_validator("table")
    @classmethod
    def _table_is_identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"expected a table name like 'predictions', got {value!r}")
        return value

    def resolved(self, project_dir: Path) -> OutputSettings:
        """A copy with the directory and a SQLite file made absolute against `project_dir`."""
        return self.model_copy(
            update={
                "path": _absolute(project_dir, self.path),
                "url": _sqlite_absolute(project_dir, self.url),
            }
        )


class ScheduleSettings(_Section):
    """[schedule]: how often windows run (`every` or `cron`), catch-up and retries."""

    timezone: str = "UTC"
    every: Duration | None = None
    cron: str | None = None
    catch_up_max: int = Field(default=96, ge=0)
    missing_input_retries: int = Field(default=3, ge=0)
    missing_input_backoff: Duration = timedelta(minutes=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from shipml.pipeline.windows import parse_timezone  # see _duration for why it is here

        parse_timezone(value)
        return value

    @field_validator("cron")
    @classmethod
    def _valid_crontab(cls, value: str | None, info: ValidationInfo) -> str | None:
        from shipml.pipeline.windows import Cron  # see _duration for why it is here

        if value is not None:
            Cron(value, info.data.get("timezone", "UTC"))
        return value

    def cadence(self) -> timedelta | Cron:
        """How windows are cut: the `every` interval, or the cron schedule in its time zone."""
        from shipml.pipeline.windows import Cron  # see _duration for why it is here

        if self.cron is not None:
            return Cron(self.cron, self.timezone)
        assert self.every is not None  # one of the two is always set after validation
        return self.every

    @model_validator(mode="after")
    def _exactly_one_cadence(self) -> ScheduleSettings:
        if self.every is not None and self.cron is not None:
            raise ValueError("set either 'every' or 'cron', not both")
        if self.every is None and self.cron is None:
            self.every = timedelta(minutes=15)
        return self


class ValidationSettings(_Section):
    """[validation]: what a boundary does with invalid rows, by default and per boundary."""

    policy: Policy = "fail"
    max_invalid_fraction: float = Field(default=0.05, ge=0, le=1)
    boundaries: dict[str, Policy] = Field(default_factory=dict)

    @field_validator("boundaries")
    @classmethod
    def _boundary_names(cls, value: dict[str, Policy]) -> dict[str, Policy]:
        for name in value:
            step_name, dot, side = name.partition(".")
            if not step_name.isidentifier() or (dot and side not in ("input", "output")):
                raise ValueError(
                    f"{name!r} is not a boundary; expected a step name like 'preprocess' "
                    "or a step side like 'predict.output'"
                )
        return value

    def policy_for(self, boundary: str) -> Policy:
        """The policy of `boundary` ('predict.output'), falling back to its step, then default."""
        step_name = boundary.partition(".")[0]
        return self.boundaries.get(boundary) or self.boundaries.get(step_name) or self.policy


class ModelSettings(_Section):
    """[model]: the registered model's name (default: the project name) and alias to serve."""

    name: str | None = None
    alias: str = "champion"


class TrackingSettings(_Section):
    """[tracking]: the MLflow tracking URI and artifact location."""

    uri: str | None = None
    artifacts: Path | None = None

    def resolved(self, project_dir: Path) -> TrackingSettings:
        """A copy with defaults under <project>/.shipml and relative paths made absolute."""
        home = project_dir / ".shipml"
        uri = self.uri or f"sqlite:///{home / 'mlflow.db'}"
        artifacts = self.artifacts or home / "mlartifacts"
        return self.model_copy(
            update={
                "uri": _sqlite_absolute(project_dir, uri),
                "artifacts": _absolute(project_dir, artifacts),
            }
        )


class StoreSettings(_Section):
    """[store]: the database of runs, windows, profiles, alerts and quarantined rows."""

    url: str | None = None

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _database_url(value)

    def resolved(self, project_dir: Path) -> StoreSettings:
        """A copy with the default SQLite file under <project>/.shipml, paths made absolute."""
        url = self.url or f"sqlite:///{project_dir / '.shipml' / 'shipml.db'}"
        return self.model_copy(update={"url": _sqlite_absolute(project_dir, url)})


class ColumnMonitoring(_Section):
    """[monitoring.columns.<name>]: another drift method or threshold for one column."""

    method: DriftMethod | None = None
    threshold: float | None = Field(default=None, gt=0)
    null_rate_threshold: float | None = Field(default=None, gt=0, le=1)


class MonitoringSettings(_Section):
    """[monitoring]: prediction-shift k, drift methods and thresholds, latency budgets.

    Thresholds are effect sizes (PSI, KS statistic, Jensen-Shannon distance, Cramér's V),
    not p-values: at thousands of rows a p-value flags differences too small to matter.
    """

    k_sigma: float = Field(default=2.0, gt=0)
    numeric_method: DriftMethod = "psi"
    categorical_method: DriftMethod = "jensen_shannon"
    drift_min_rows: int = Field(default=DEFAULT_MIN_ROWS, ge=1)
    thresholds: dict[str, float] = Field(default_factory=dict)
    columns: dict[str, ColumnMonitoring] = Field(default_factory=dict)
    latency_p99_seconds: float = Field(default=1.0, gt=0)
    step_latency_p99_seconds: dict[str, float] = Field(default_factory=dict)
    fail_on_critical: bool = False
    prometheus_textfile: Path | None = None  # for node_exporter's textfile collector (*.prom)
    pushgateway_url: str | None = None

    @field_validator("thresholds")
    @classmethod
    def _known_methods(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_THRESHOLDS))
        if unknown:
            raise ValueError(
                f"unknown drift method(s) {unknown}; expected some of {sorted(DEFAULT_THRESHOLDS)}"
            )
        return value

    def rules(self) -> MonitoringConfig:
        """These settings as the monitoring package's configuration."""
        drift = DriftConfig(
            numeric_method=self.numeric_method,
            categorical_method=self.categorical_method,
            min_rows=self.drift_min_rows,
            thresholds=self.thresholds,
            columns={
                name: ColumnDriftRule(**column.model_dump())
                for name, column in self.columns.items()
            },
        )
        budgets = {END_TO_END: self.latency_p99_seconds, **self.step_latency_p99_seconds}
        return MonitoringConfig(drift=drift, k=self.k_sigma, latency_budgets_seconds=budgets)


class AlertsSettings(_Section):
    """[alerts]: the webhook's timeout and retries; its URL only from SHIPML_ALERTS__WEBHOOK_URL."""

    webhook_url: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_retries: int = Field(default=3, ge=0)


class ServingSettings(_Section):
    """[serving]: the HTTP server and request limits; the API key only from the environment."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    max_records: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    batch_wait_ms: float = Field(default=2.0, ge=0)
    metrics_require_auth: bool = False
    access_log: bool = True  # one line per request (uvicorn's access log, with the request id)
    api_key: SecretStr | None = None
    reload_interval_seconds: float = Field(default=30.0, gt=0)
    registry_timeout_seconds: float = Field(default=30.0, gt=0)
    monitor_flush_seconds: float = Field(default=60.0, gt=0)
    monitor_flush_requests: int = Field(default=10_000, ge=1)


class Settings(BaseSettings):
    """The effective settings of one project: shipml.toml, then SHIPML_* variables on top."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    project: ProjectSettings
    source: SourceSettings | None = None
    training: TrainingSettings | None = None
    output: OutputSettings = Field(default_factory=OutputSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)

    _project_dir: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments first, then the environment, then shipml.toml."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_file.get())
        return init_settings, env_settings, toml

    @model_validator(mode="after")
    def _model_named_after_project(self) -> Settings:
        if self.model.name is None:
            self.model.name = self.project.name
        return self

    @property
    def project_dir(self) -> Path:
        """The absolute project directory these settings were loaded from."""
        if self._project_dir is None:
            raise ConfigError("these settings were not loaded from a project directory")
        return self._project_dir

    def config_hash(self) -> str:
        """A stable sha256 (hex) of the effective settings, without secrets or passwords."""
        data = self.model_dump(mode="json", exclude={section: {key} for section, key in _ENV_ONLY})
        for section, key in _URL_FIELDS:
            if data[section] is not None and data[section][key] is not None:
                data[section][key] = _without_password(data[section][key])
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def resolved(self, project_dir: Path) -> Settings:
        """A copy whose paths and defaults are anchored in `project_dir` (absolute)."""
        home = project_dir.resolve()
        copy = self.model_copy(
            update={
                "source": self.source.resolved(home) if self.source else None,
                "training": self.training.resolved(home) if self.training else None,
                "output": self.output.resolved(home),
                "tracking": self.tracking.resolved(home),
                "store": self.store.resolved(home),
            }
        )
        copy._project_dir = home
        return copy


def load_settings(project_dir: Path) -> Settings:
    """The settings of the project in `project_dir`; `ConfigError` names any problem."""
    file = project_dir / CONFIG_FILE
    if not project_dir.is_dir():
        raise ConfigError(f"project directory {project_dir} does not exist")
    if not file.is_file():
        raise ConfigError(
            f'no {CONFIG_FILE} in {project_dir}; the smallest one is: [project] name = "my-project"'
        )
    raw = _read_toml(file)
    _refuse_secrets(raw, file)
    token = _toml_file.set(file)
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigError(_describe(error, file)) from None
    except SettingsError as error:  # a SHIPML_<TABLE> variable that is not JSON
        raise ConfigError(
            f"{error}: a SHIPML_* variable naming a whole table must hold JSON; "
            "set one key at a time instead, e.g. SHIPML_SERVING__PORT=8080"
        ) from None
    finally:
        _toml_file.reset(token)
    return settings.resolved(project_dir)


def _read_toml(file: Path) -> dict[str, Any]:
    """The parsed file; syntax errors become a `ConfigError` with the line number."""
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{file}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not valid TOML: the file is not UTF-8 text") from None


def _refuse_secrets(raw: dict[str, Any], file: Path) -> None:
    """Raise if the file holds a secret, which belongs in the environment."""
    for section, key in _ENV_ONLY:
        table = raw.get(section)
        if isinstance(table, dict) and key in table:
            raise ConfigError(
                f"{file}: {section}.{key}: secrets are not read from the file; "
                f"remove it and set the environment variable {_env_name((section, key))}"
            )


def _describe(error: ValidationError, file: Path) -> str:
    """One line per problem: where it came from, the dotted key, what was expected."""
    lines = []
    for problem in error.errors(include_url=False):
        location = tuple(problem["loc"])
        origin = _origin(location, file)
        key = ".".join(str(part) for part in location)
        lines.append(f"{origin}: {key}: {_expected(problem)}")
    return "\n".join(lines)


def _origin(location: tuple[Any, ...], file: Path) -> str:
    """The environment variable that set this key, or else the file."""
    name = _env_name(location)
    if any(variable.upper() == name for variable in os.environ):
        return f"environment variable {name}"
    return str(file)


_EXPECTATIONS = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "string_too_short": "expected a non-empty string",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "dict_type": "expected a table",
    "path_type": "expected a path",
}


def _expected(problem: Any) -> str:
    """What the key should hold, and what it held."""
    kind, context, value = problem["type"], problem.get("ctx", {}), problem.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(tuple(problem["loc"]))
    if kind in ("value_error", "assertion_error"):
        return str(context.get("error", problem["msg"]))
    if kind == "literal_error":
        return f"expected {context['expected']}, got {_show(value)}"
    return f"{_EXPECTATIONS.get(kind, _lowercase_first(problem['msg']))}, got {_show(value)}"


def _unknown_key(location: tuple[Any, ...]) -> str:
    """'unknown key', with the closest known key or the list of known keys."""
    known = _known_keys(location[:-1])
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(str(location[-1]), known, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; expected one of: {', '.join(known)}"


def _known_keys(location: tuple[Any, ...]) -> list[str]:
    """The keys the table at `location` accepts (empty if it is not a fixed table)."""
    current: Any = Settings
    for part in location:
        if get_origin(current) is dict:
            current = _without_none(get_args(current)[1])
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = _without_none(field.annotation)
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _without_none(annotation: Any) -> Any:
    """`X` from `X | None`; anything else unchanged."""
    members = [member for member in get_args(annotation) if member is not type(None)]
    if get_origin(annotation) is not dict and len(members) == 1:
        return members[0]
    return annotation


def _lowercase_first(message: str) -> str:
    """Pydantic's 'Input should be ...' as 'input should be ...'."""
    return message[:1].lower() + message[1:]


def _show(value: Any) -> str:
    """A short repr of a bad value for an error message."""
    shown = repr(value)
    if len(shown) > _SHOWN_INPUT_CHARS:
        return shown[: _SHOWN_INPUT_CHARS - 3] + "..."
    return shown


def _env_name(location: tuple[Any, ...]) -> str:
    """SHIPML_SERVING__API_KEY for ('serving', 'api_key')."""
    return ENV_PREFIX + "__".join(str(part) for part in location).upper()


def _needed_by(info: ValidationInfo, kind: str, value: Any, key: str) -> bool:
    """Whether `key` is set and used by the section's kind; raise if missing or unused."""
    section_kind = info.data.get("kind")
    if section_kind is None:  # the kind itself is invalid and already reported
        return False
    if section_kind == kind and value is None:
        raise ValueError(f"required when kind = {kind!r}")
    if section_kind != kind and value is not None:
        raise ValueError(f"only used when kind = {kind!r}, but kind = {section_kind!r}")
    return section_kind == kind


def _template_fields(path: str) -> set[str]:
    """The placeholder names in a path template: {'start', 'end'} for '{start:%Y}-{end}'."""
    try:
        parts = list(string.Formatter().parse(path))
    except ValueError as error:
        raise ValueError(f"not a valid path template: {error}, got {path!r}") from None
    return {name for _, name, _, _ in parts if name is not None}


def _absolute(project_dir: Path, path: str | Path) -> Path:
    """`path` made absolute against `project_dir` (a leading '~' is the home directory)."""
    return project_dir / Path(path).expanduser()


def _sqlite_absolute(project_dir: Path, url: str | None) -> str | None:
    """A SQLite URL whose relative database file is made absolute; other URLs unchanged."""
    if url is None or not url.startswith("sqlite"):
        return url
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    absolute = _absolute(project_dir, database)
    return parsed.set(database=str(absolute)).render_as_string(hide_password=False)


def _without_password(url: str) -> str:
    """`url` with any password masked, so that rotating it does not change the config hash."""
    try:
        parsed: URL = make_url(url)
    except ArgumentError:
        return url
    return parsed.render_as_string(hide_password=True)
