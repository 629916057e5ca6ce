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
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

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
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from shipml._settings import (
    DatabaseUrl,
    DataFile,
    Duration,
    Section,
    absolute,
    check_safe_name,
    show,
    sqlite_absolute,
)
from shipml.alerting.sinks import AlertsSettings
from shipml.contracts import Policy
from shipml.errors import ConfigError
from shipml.io.labels import LabelsSettings
from shipml.io.sinks import ParquetSink, SinkSettings
from shipml.io.sources import FileSource, SourceSettings, SqlSource
from shipml.monitoring import MonitoringConfig, PromotionConfig, RetrainingConfig
from shipml.windows import Cadence, Cron, parse_timezone

CONFIG_FILE = "shipml.toml"
ENV_PREFIX = "SHIPML_"
_ENV_ONLY = (("serving", "api_key"), ("alerts", "webhook_url"))
_URL_FIELDS = (("source", "url"), ("output", "url"), ("store", "url"), ("tracking", "uri"))

# The file `Settings()` reads; set by `load_settings` for the duration of one load.
_toml_file: ContextVar[Path | None] = ContextVar("shipml_toml_file", default=None)


class ProjectSettings(Section):
    """[project]: the project's name and where its pipeline object lives."""

    name: str = Field(min_length=1)
    pipeline: str = "pipeline:pipeline"

    @field_validator("name")
    @classmethod
    def _usable_as_a_file_name(cls, value: str) -> str:
        return check_safe_name(value)

    @field_validator("pipeline")
    @classmethod
    def _module_and_attribute(cls, value: str) -> str:
        module, _, attribute = value.partition(":")
        names = [*module.split("."), attribute]
        if not all(name.isidentifier() for name in names):
            raise ValueError(f"expected 'module:attribute' like 'pipeline:pipeline', got {value!r}")
        return value


Task = Literal["classification", "binary", "multiclass", "regression"]
ThresholdChoice = Literal["f1", "youden"]
_THRESHOLD_CHOICES = ("f1", "youden")


def _threshold(value: Any) -> Any:
    """A number in [0, 1] (text from the environment too), or 'f1' / 'youden'."""
    if isinstance(value, str) and value.strip().lower() in _THRESHOLD_CHOICES:
        return value.strip().lower()
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number <= 1:
        raise ValueError(f"expected a number between 0 and 1, 'f1' or 'youden', got {show(value)}")
    return float(number)


Threshold = Annotated[float | ThresholdChoice, BeforeValidator(_threshold)]


class TrainingSettings(Section):
    """[training]: the data, its target and task, the holdout, and the prediction to score.

    `task = "classification"` picks binary or multiclass from the number of classes in the
    target. `threshold` is the binary decision threshold on the positive class's
    probability: a number, or "f1" / "youden" to pick the one that maximises F1 or
    Youden's J (TPR - FPR) on the holdout.
    """

    data: DataFile
    target: str = Field(min_length=1)
    holdout_fraction: float = Field(default=0.2, gt=0, lt=1)
    time_column: str | None = None
    task: Task = "classification"
    positive_label: bool | int | str | None = None  # binary: default True, 1, else the minority
    threshold: Threshold = 0.5
    prediction: str | None = None  # the output column holding the predicted value or class
    probabilities: str | None = None  # prefix of the per-class probability columns

    def resolved(self, project_dir: Path) -> TrainingSettings:
        """A copy with the data path made absolute against `project_dir`."""
        return self.model_copy(update={"data": absolute(project_dir, self.data)})


class ScheduleSettings(Section):
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
        parse_timezone(value)
        return value

    @field_validator("cron")
    @classmethod
    def _valid_crontab(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            Cron(value, info.data.get("timezone", "UTC"))
        return value

    def cadence(self) -> Cadence:
        """How windows are cut: the `every` interval, or the cron schedule in its time zone."""
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


class ValidationSettings(Section):
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


class ModelSettings(Section):
    """[model]: the registered model's name (default: the project name), the alias to serve,
    and the challenger's alias: scored in shadow by the server, and beside the champion into
    an output of its own by batch windows when `challenger_in_batch` is set."""

    name: str | None = None
    alias: str = "champion"
    challenger: str | None = "challenger"
    challenger_in_batch: bool = False


class TrackingSettings(Section):
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
                "uri": sqlite_absolute(project_dir, uri),
                "artifacts": absolute(project_dir, artifacts),
            }
        )


class StoreSettings(Section):
    """[store]: the database of runs, windows, profiles, alerts and quarantined rows, and how
    long to wait for it (a PostgreSQL server that is down or frozen fails the run in one line).
    """

    url: DatabaseUrl | None = None
    connect_timeout: Duration = timedelta(seconds=10)
    statement_timeout: Duration = timedelta(seconds=30)

    def resolved(self, project_dir: Path) -> StoreSettings:
        """A copy with the default SQLite file under <project>/.shipml, paths made absolute."""
        url = self.url or f"sqlite:///{project_dir / '.shipml' / 'shipml.db'}"
        return self.model_copy(update={"url": sqlite_absolute(project_dir, url)})


class MonitoringSettings(MonitoringConfig, Section):
    """[monitoring]: the monitoring rules (drift, prediction shift, latency), and what a
    window does with their findings: fail on a critical alert, publish Prometheus metrics.
    """

    fail_on_critical: bool = False
    prometheus_textfile: Path | None = None  # for node_exporter's textfile collector (*.prom)
    pushgateway_url: str | None = None


class PromotionSettings(PromotionConfig, Section):
    """[promotion]: the gate a model version passes to become champion (`shipml promote`,
    `shipml train --promote`, retraining): the gated metric, its `max_drop` against the
    champion on the same rows, and `min_<metric>` floors / `max_<metric>` ceilings.
    """

    model_config = ConfigDict(extra="allow")  # min_<metric> keys, checked by PromotionConfig


class RetrainingSettings(RetrainingConfig, Section):
    """[retraining]: the scheduler retrains when a window raises one of `on_alerts`, at most
    once per `cooldown`, on `data` (default [training] data), optionally only its rows of
    the last `since` by [training] time_column; the gated version gets `alias`.
    """

    cooldown: Duration = timedelta(days=1)
    data: DataFile | None = None
    since: Duration | None = None

    def resolved(self, project_dir: Path) -> RetrainingSettings:
        """A copy with the data path made absolute against `project_dir`."""
        data = absolute(project_dir, self.data) if self.data is not None else None
        return self.model_copy(update={"data": data})


class ServingSettings(Section):
    """[serving]: the HTTP server and request limits; the API key only from the environment."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    max_records: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    # What one client connection may hold (a 431, 408 or 503 beyond; see shipml.serving.server)
    max_header_bytes: int = Field(default=16_384, ge=1024)
    max_headers: int = Field(default=100, ge=1)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=500, ge=1)
    batch_wait_ms: float = Field(default=2.0, ge=0)
    metrics_require_auth: bool = False
    access_log: bool = True  # one line per request (uvicorn's access log, with the request id)
    api_key: SecretStr | None = None
    reload_interval_seconds: float = Field(default=30.0, gt=0)
    registry_timeout_seconds: float = Field(default=30.0, gt=0)
    monitor_flush_seconds: float = Field(default=60.0, gt=0)
    monitor_flush_requests: int = Field(default=10_000, ge=1)
    # The challenger ([model] challenger, see shipml.serving.shadow), when its alias is set,
    # scores every answered request in shadow (off the response path), and answers the
    # canary's share of the requests.
    shadow: bool = True
    shadow_queue_records: int = Field(default=10_000, ge=1)  # dropped (and counted) beyond
    shadow_wait_ms: float = Field(default=1000.0, ge=0)  # gathering a shadow batch (big: cheap)
    shadow_tolerance: float = Field(default=0.0, ge=0)  # numbers closer than this agree
    canary_fraction: float = Field(default=0.0, ge=0, le=1)
    canary_key_field: str | None = None  # the record field that keys a request to a version
    canary_key_header: str = "x-shipml-key"  # the header that does, before the field


class Settings(BaseSettings):
    """The effective settings of one project: shipml.toml, then SHIPML_* variables on top."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    project: ProjectSettings
    source: SourceSettings | None = None
    training: TrainingSettings | None = None
    output: SinkSettings = Field(default_factory=ParquetSink)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    labels: LabelsSettings = Field(default_factory=LabelsSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    retraining: RetrainingSettings | None = None

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

    def window_source(self) -> FileSource | SqlSource:
        """The [source] table: where batch windows read their input."""
        if self.source is None:
            raise ConfigError(
                "shipml.toml has no [source] table; add one, e.g. "
                '[source] path = "data/{start:%Y-%m-%dT%H%M}.csv"'
            )
        return self.source

    def check_source_fits(self, cadence: Cadence, *, origin: str = "") -> None:
        """Raise `ConfigError` unless each window of `cadence` reads exactly its rows.

        Loading the settings checks the `[schedule]`; a cadence given another way (the
        command line of `shipml schedule`) is checked with this.
        """
        if not isinstance(self.source, FileSource):
            return
        try:
            self.source.check_schedule(cadence)
        except ValueError as error:
            where = f"{origin}: " if origin else ""
            raise ConfigError(f"{where}source.path: {error}") from None

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
            if data[section] is not None and data[section].get(key) is not None:
                data[section][key] = _without_password(data[section][key])
        label_source = data["labels"].get("source") or {}
        if label_source.get("url") is not None:
            label_source["url"] = _without_password(label_source["url"])
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
                # only a [labels] table that is there counts as set: it turns the prediction log on
                **(
                    {"labels": self.labels.resolved(home)}
                    if "labels" in self.model_fields_set
                    else {}
                ),
                "retraining": self.retraining.resolved(home) if self.retraining else None,
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
    resolved = settings.resolved(project_dir)
    resolved.check_source_fits(
        resolved.schedule.cadence(), origin=_origin(("source", "path"), file)
    )
    return resolved


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
        place = _walk(tuple(problem["loc"]))
        key = (*place.key, "kind") if problem["type"] == "union_tag_invalid" else place.key
        dotted = ".".join(str(part) for part in key)
        lines.append(f"{_origin(key, file)}: {dotted}: {_expected(problem, place)}")
    return "\n".join(lines)


def _origin(location: tuple[Any, ...], file: Path) -> str:
    """The environment variable that set this key, or else the file."""
    name = _env_name(location)
    if any(variable.upper() == name for variable in os.environ):
        return f"environment variable {name}"
    return str(file)


@dataclass(frozen=True)
class _Place:
    """Where a problem is: its dotted key, the table holding it, and that table's kind."""

    key: tuple[Any, ...]
    table: type[BaseModel] | None
    kind: str | None = None  # the table is this member of a union of kinds
    kinds: dict[str, type[BaseModel]] = field(default_factory=dict)  # all members by kind


def _walk(location: tuple[Any, ...]) -> _Place:
    """Follow Pydantic's error location through the settings models.

    A union of kinds puts the member's tag in the location (`source.files.path`); the user
    wrote `source.path`, so the tag is dropped from the key and kept as the table's kind.
    """
    key: list[Any] = []
    current: Any = Settings
    table: type[BaseModel] | None = None
    kind, kinds = None, {}
    for part in location:
        members = _kinds(current)
        if members and part in members:
            kind, kinds, current = part, members, members[part]
            continue
        key.append(part)
        table = current if isinstance(current, type) and issubclass(current, BaseModel) else None
        current = _inner(current, part)
    if current is not None and _kinds(current) and table is not None:
        kinds = _kinds(current)  # the problem is the union's own tag
    return _Place(tuple(key), table, kind, kinds)


def _inner(annotation: Any, part: Any) -> Any:
    """The type of `part` inside `annotation` (a model's field, a dict's value), or None."""
    annotation = _without_none(annotation)
    if get_origin(annotation) is dict:
        return _without_none(get_args(annotation)[1])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found = annotation.model_fields.get(str(part))
        return None if found is None else _without_none(found.annotation)
    return None


def _kinds(annotation: Any) -> dict[str, type[BaseModel]]:
    """The members of a union of kinds (models with a `kind` literal) by kind; else empty."""
    members = [m for m in _flat_union(annotation) if m is not type(None)]
    if len(members) < 2:
        return {}
    found: dict[str, type[BaseModel]] = {}
    for member in members:
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            return {}
        kind = member.model_fields.get("kind")
        if kind is None or get_origin(kind.annotation) is not Literal:
            return {}
        found[get_args(kind.annotation)[0]] = member
    return found


def _flat_union(annotation: Any) -> list[Any]:
    """The members of a union, looking through `Annotated` and nested unions."""
    if get_origin(annotation) is Annotated:
        return _flat_union(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return [member for arg in get_args(annotation) for member in _flat_union(arg)]
    return [annotation]


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


def _expected(problem: Any, place: _Place) -> str:
    """What the key should hold, and what it held."""
    kind, context, value = problem["type"], problem.get("ctx", {}), problem.get("input")
    if kind == "missing":
        return f"required when kind = {place.kind!r}" if place.kind else "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(place)
    if kind in ("value_error", "assertion_error"):
        return str(context.get("error", problem["msg"]))
    if kind == "literal_error":
        return f"expected {context['expected']}, got {show(value)}"
    if kind == "union_tag_invalid":
        return f"expected {_one_of(list(place.kinds))}, got {show(context.get('tag'))}"
    return f"{_EXPECTATIONS.get(kind, _lowercase_first(problem['msg']))}, got {show(value)}"


def _unknown_key(place: _Place) -> str:
    """'unknown key', the kind that uses it, or the closest known key or all known keys."""
    name = str(place.key[-1])
    users = [kind for kind, member in place.kinds.items() if name in member.model_fields]
    if place.kind and users:
        return f"only used when kind = {users[0]!r}, but kind = {place.kind!r}"
    known = list(place.table.model_fields) if place.table is not None else []
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; expected one of: {', '.join(known)}"


def _one_of(names: list[str]) -> str:
    """ "'a' or 'b'", "'a', 'b' or 'c'"."""
    quoted = [repr(name) for name in names]
    return " or ".join([", ".join(quoted[:-1]), quoted[-1]]) if len(quoted) > 1 else quoted[0]


def _without_none(annotation: Any) -> Any:
    """`X` from `X | None`; anything else unchanged."""
    members = [member for member in get_args(annotation) if member is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(members) == 1:
        return members[0]
    return annotation


def _lowercase_first(message: str) -> str:
    """Pydantic's 'Input should be ...' as 'input should be ...'."""
    return message[:1].lower() + message[1:]


def _env_name(location: tuple[Any, ...]) -> str:
    """SHIPML_SERVING__API_KEY for ('serving', 'api_key')."""
    return ENV_PREFIX + "__".join(str(part) for part in location).upper()


def _without_password(url: str) -> str:
    """`url` with any password masked, so that rotating it does not change the config hash."""
    try:
        parsed: URL = make_url(url)
    except ArgumentError:
        return url
    return parsed.render_as_string(hide_password=True)
