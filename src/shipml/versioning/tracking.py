"""MLflow tracking and registry: log a training run, register, promote by alias, load.

MLflow is imported lazily: it takes seconds to import, and only training, batch scoring and
serving need it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from shipml.errors import RegistryError, first_line, without_password

if TYPE_CHECKING:
    from mlflow import MlflowClient

_T = TypeVar("_T")

BASELINE_ARTIFACT = "shipml/baseline.json"
HOLDOUT_ARTIFACT = "shipml/holdout.parquet"  # the raw holdout rows, target included
TAG_PREFIX = "shipml."
# The run's tag naming the shipml artifacts it logged, so that one the store cannot hand back
# is told apart from one that was never logged (runs from before the tag read as before).
LOGGED_ARTIFACTS_TAG = f"{TAG_PREFIX}artifacts"
# What training decided about the prediction, stored with the model version (tags).
TASK_TAG = f"{TAG_PREFIX}task"
THRESHOLD_TAG = f"{TAG_PREFIX}threshold"
POSITIVE_LABEL_TAG = f"{TAG_PREFIX}positive_label"  # JSON: true, 1 or "malignant"
CLASSES_TAG = f"{TAG_PREFIX}classes"  # JSON list
DEFAULT_THRESHOLD = 0.5
# MLflow's error codes for a model, version or alias that is not there (anything else the
# registry raises means the registry itself failed, e.g. its database).
_NOT_FOUND = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


@dataclass(frozen=True)
class ModelRef:
    """One registered model version, and the alias it was reached by."""

    name: str
    version: str
    alias: str | None = None
    run_id: str | None = None

    @property
    def uri(self) -> str:
        """The `models:/` URI of this exact version."""
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class ModelVersionInfo:
    """A registered version with what it was trained on and how it scored."""

    ref: ModelRef
    aliases: tuple[str, ...]
    created_at: datetime
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def data_version(self) -> str | None:
        """The version of the training data."""
        return self.tags.get(f"{TAG_PREFIX}data_version")

    @property
    def git_commit(self) -> str | None:
        """The project's git commit at training time."""
        return self.tags.get("mlflow.source.git.commit")

    @property
    def task(self) -> str | None:
        """binary, multiclass or regression (None for a version trained before tasks)."""
        return self.tags.get(TASK_TAG)

    @property
    def threshold(self) -> float | None:
        """The binary decision threshold on the positive class's probability."""
        value = self.tags.get(THRESHOLD_TAG)
        return None if value is None else float(value)

    @property
    def positive_label(self) -> Any:
        """The positive class of a binary model, as the target holds it."""
        value = self.tags.get(POSITIVE_LABEL_TAG)
        return None if value is None else json.loads(value)

    @property
    def classes(self) -> list[Any] | None:
        """The classes of a classifier, in order."""
        value = self.tags.get(CLASSES_TAG)
        return None if value is None else list(json.loads(value))


@dataclass(frozen=True)
class LoadedModel:
    """A model object ready for the predict step, with its registry facts."""

    model: Any
    info: ModelVersionInfo
    baseline: dict[str, Any] | None

    @property
    def ref(self) -> ModelRef:
        """Name, version and alias."""
        return self.info.ref

    @property
    def threshold(self) -> float:
        """The decision threshold steps receive as `threshold` (0.5 when none was stored)."""
        stored = self.info.threshold
        return DEFAULT_THRESHOLD if stored is None else stored

    def scoring_context(self) -> dict[str, Any]:
        """What the scoring steps may ask for by parameter name: `model` and `threshold`."""
        return {"model": self.model, "threshold": self.threshold}


class Tracker:
    """One project's experiments and registered model in MLflow."""

    def __init__(
        self, tracking_uri: str, *, experiment: str, model_name: str, artifact_root: Path | None
    ) -> None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        # MLflow's loggers go through shipml's logging configuration (quiet unless -v),
        # instead of a handler of MLflow's own on stderr.
        os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.model_name = model_name
        self.artifact_root = artifact_root

    def _client(self) -> MlflowClient:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _raise_if_failing(self, error: Exception) -> None:
        """A `RegistryError` naming the registry when `error` is not MLflow's "not found"."""
        if getattr(error, "error_code", None) in _NOT_FOUND:
            return
        where = without_password(self.tracking_uri)
        raise RegistryError(f"registry at {where} failed: {first_line(error)}") from error

    def _experiment_id(self, client: MlflowClient) -> str:
        found = client.get_experiment_by_name(self.experiment)
        if found is not None:
            return str(found.experiment_id)
        location = self.artifact_root.resolve().as_uri() if self.artifact_root else None
        return str(client.create_experiment(self.experiment, artifact_location=location))

    def log_training(
        self,
        *,
        model: Any,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        input_example: pd.DataFrame,
        output_example: pd.DataFrame | None = None,
        baseline: Mapping[str, Any] | None = None,
        artifacts: Mapping[str, str | Mapping[str, Any]] | None = None,
        holdout: pd.DataFrame | None = None,
    ) -> ModelRef:
        """Log a training run with its model, and register the model as a new version.

        `artifacts` maps run artifact paths (`shipml/confusion_matrix.csv`) to text or to a
        dict written as JSON. `holdout` (the rows the model was evaluated on) is kept as
        Parquet, for the promotion gate to score other models on the same rows.
        """
        import mlflow

        _mlflow_prints_follow_logging()
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        client = self._client()
        experiment_id = self._experiment_id(client)
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_params({k: _param(v) for k, v in params.items()})
            mlflow.log_metrics(dict(metrics))
            mlflow.set_tags(dict(tags))
            logged = []
            if baseline is not None:
                mlflow.log_dict(dict(baseline), BASELINE_ARTIFACT)
                logged.append(BASELINE_ARTIFACT)
            for path, content in (artifacts or {}).items():
                if isinstance(content, str):
                    mlflow.log_text(content, path)
                else:
                    mlflow.log_dict(dict(content), path)
            if holdout is not None and _log_frame(holdout, HOLDOUT_ARTIFACT):
                logged.append(HOLDOUT_ARTIFACT)
            mlflow.set_tag(LOGGED_ARTIFACTS_TAG, json.dumps(logged))
            info = _log_model(model, input_example, output_example, self.model_name)
        version = str(info.registered_model_version)
        for key, value in tags.items():
            client.set_model_version_tag(self.model_name, version, key, value)
        for key, score in metrics.items():
            client.set_model_version_tag(self.model_name, version, f"metric.{key}", str(score))
        return ModelRef(self.model_name, version, None, run.info.run_id)

    def promote(self, version: str, alias: str = "champion") -> ModelRef:
        """Point `alias` at `version`."""
        client = self._client()
        try:
            client.get_model_version(self.model_name, str(version))
        except Exception as error:
            self._raise_if_failing(error)
            raise RegistryError(f"model {self.model_name!r} has no version {version}") from error
        client.set_registered_model_alias(self.model_name, alias, str(version))
        return ModelRef(self.model_name, str(version), alias)

    def remove_alias(self, alias: str) -> None:
        """Take `alias` off whatever version it points at (nothing if it points nowhere)."""
        client = self._client()
        try:
            client.delete_registered_model_alias(self.model_name, alias)
        except Exception as error:
            raise RegistryError(f"cannot remove alias {alias!r}: {error}") from error

    def current(self, alias: str) -> str | None:
        """The version `alias` points at, None when it points nowhere (or no model exists)."""
        client = self._client()
        try:
            aliases = client.get_registered_model(self.model_name).aliases
        except Exception as error:
            self._raise_if_failing(error)  # a registry that fails is not "no champion"
            return None
        version = aliases.get(alias)
        return None if version is None else str(version)

    def version(self, version: str) -> ModelVersionInfo:
        """One registered version."""
        client = self._client()
        try:
            found = client.get_model_version(self.model_name, str(version))
        except Exception as error:
            self._raise_if_failing(error)
            raise RegistryError(f"model {self.model_name!r} has no version {version}") from error
        return _version_info(found, tuple(found.aliases or ()))

    def load_version(self, version: str) -> LoadedModel:
        """Load one registered version, with its baseline (its alias left unset)."""
        import mlflow

        _mlflow_prints_follow_logging()
        info = self.version(version)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        model = _load_model(info.ref.uri)
        return LoadedModel(model=model, info=info, baseline=self._baseline(info.ref.run_id))

    def holdout(self, version: str) -> pd.DataFrame | None:
        """The holdout rows `version` was evaluated on (None for one trained without them)."""
        return self._artifact(self.version(version).ref.run_id, HOLDOUT_ARTIFACT, pd.read_parquet)

    def versions(self) -> list[ModelVersionInfo]:
        """Every registered version, newest first."""
        client = self._client()
        try:
            found = client.search_model_versions(f"name = '{self.model_name}'")
            aliases = client.get_registered_model(self.model_name).aliases if found else {}
        except Exception as error:
            self._raise_if_failing(error)
            raise RegistryError(f"cannot list versions of {self.model_name!r}: {error}") from error
        infos = [_version_info(v, _aliases_of(aliases, v.version)) for v in found]
        return sorted(infos, key=lambda i: int(i.ref.version), reverse=True)

    def resolve(self, alias: str = "champion") -> ModelVersionInfo:
        """The version `alias` points at."""
        client = self._client()
        try:
            found = client.get_model_version_by_alias(self.model_name, alias)
        except Exception as error:
            self._raise_if_failing(error)
            raise RegistryError(
                f"no version of model {self.model_name!r} has alias {alias!r} "
                f"(train one with `shipml train`, then `shipml promote VERSION`): {error}"
            ) from error
        info = _version_info(found, tuple(found.aliases or ()))
        return ModelVersionInfo(
            ModelRef(info.ref.name, info.ref.version, alias, info.ref.run_id),
            info.aliases,
            info.created_at,
            info.metrics,
            info.tags,
        )

    def resolve_if_set(self, alias: str) -> ModelVersionInfo | None:
        """The version `alias` points at, or None when no version has it (a challenger)."""
        client = self._client()
        try:
            aliases = client.get_registered_model(self.model_name).aliases or {}
        except Exception as error:
            self._raise_if_failing(error)
            return None  # no such model yet: no challenger either
        return self.resolve(alias) if alias in aliases else None

    def load(self, alias: str = "champion") -> LoadedModel:
        """Load the model `alias` points at, with its baseline."""
        import mlflow

        _mlflow_prints_follow_logging()
        info = self.resolve(alias)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        model = _load_model(info.ref.uri)
        return LoadedModel(model=model, info=info, baseline=self._baseline(info.ref.run_id))

    def _baseline(self, run_id: str | None) -> dict[str, Any] | None:
        return self._artifact(run_id, BASELINE_ARTIFACT, _read_json)

    def _artifact(self, run_id: str | None, path: str, read: Callable[[Path], _T]) -> _T | None:
        """`read` of one artifact of the run; None only when the run never logged it."""
        if run_id is None:
            return None
        logged = self._logged_artifacts(run_id)
        if logged is not None and path not in logged:
            return None
        import mlflow.artifacts

        with tempfile.TemporaryDirectory() as directory:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id,
                    artifact_path=path,
                    dst_path=directory,
                    tracking_uri=self.tracking_uri,
                )
                return read(Path(local))
            except Exception as error:
                if logged is None:
                    return None  # a run from before the tag: absent reads as never logged
                raise RegistryError(
                    f"cannot read {path} of run {run_id} (logged at training; the artifact "
                    f"store of {without_password(self.tracking_uri)} failed): {first_line(error)}"
                ) from error

    def _logged_artifacts(self, run_id: str) -> list[str] | None:
        """The shipml artifacts the run says it logged (None for runs from before the tag)."""
        try:
            tags = self._client().get_run(run_id).data.tags
        except Exception as error:
            self._raise_if_failing(error)
            raise RegistryError(f"run {run_id} of {self.model_name!r} is gone: {error}") from error
        text = tags.get(LOGGED_ARTIFACTS_TAG)
        return None if text is None else list(json.loads(text))


def _log_frame(frame: pd.DataFrame, artifact_path: str) -> bool:
    """Log `frame` as a Parquet artifact at `artifact_path`; False when it cannot be kept."""
    import mlflow

    directory, name = os.path.split(artifact_path)
    with tempfile.TemporaryDirectory() as temporary:
        path = Path(temporary) / name
        try:
            frame.to_parquet(path, index=False)
        except (ValueError, TypeError, ImportError) as error:  # e.g. a column of mixed types
            # Training stands without it; the promotion gate then asks for --force.
            logging.getLogger(__name__).warning(
                "the holdout is not kept with the model (%s): %s", artifact_path, error
            )
            return False
        mlflow.log_artifact(str(path), directory or None)
    return True


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON artifact as a dict."""
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _mlflow_verbose() -> bool:
    """Whether MLflow's own output is wanted: its logger lets INFO through (`shipml -v`)."""
    return logging.getLogger("mlflow").isEnabledFor(logging.INFO)


class _MlflowPrints:
    """Where MLflow's `eprint` writes ("Successfully registered model ..."): INFO lines of
    the `mlflow` logger, shown only at -v like MLflow's other lines."""

    enabled = True  # MLflow's own disable_logging() and enable_logging() set this

    def write(self, text: str) -> int:
        """Log each non-blank line of `text` at INFO."""
        if self.enabled:
            for line in text.splitlines():
                if line.strip():
                    logging.getLogger("mlflow").info(line)
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def _mlflow_prints_follow_logging() -> None:
    """Send MLflow's prints through logging (once; `eprint` reads this module global)."""
    from mlflow.utils import logging_utils

    if not isinstance(logging_utils.MLFLOW_LOGGING_STREAM, _MlflowPrints):
        # Duck-typed: eprint only calls write and flush; (dis|en)able_logging set `enabled`.
        logging_utils.MLFLOW_LOGGING_STREAM = _MlflowPrints()  # type: ignore[assignment]  # duck-typed stream


def _log_model(
    model: Any, example: pd.DataFrame, output: pd.DataFrame | None, registered_name: str
) -> Any:
    """Log the model; MLflow's warnings about its schema inference show only if verbose."""
    with warnings.catch_warnings():
        if not _mlflow_verbose():
            warnings.filterwarnings("ignore", module=r"mlflow\.")
        return _log_model_flavor(model, example, output, registered_name)


def _log_model_flavor(
    model: Any, example: pd.DataFrame, output: pd.DataFrame | None, registered_name: str
) -> Any:
    """Log with the scikit-learn flavor when possible, else as a pickled pyfunc."""
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.base import BaseEstimator

    inputs = _naive_utc(example)
    signature = infer_signature(inputs, _naive_utc(output)) if output is not None else None
    common = dict(
        name="model",
        registered_model_name=registered_name,
        input_example=inputs,
        signature=signature,
        await_registration_for=60,
    )
    if isinstance(model, BaseEstimator):
        # cloudpickle, not skops: skops refuses common estimators (HistGradientBoosting)
        # unless each of their types is listed as trusted; the registry holds our own models.
        return mlflow.sklearn.log_model(
            sk_model=model,
            pip_requirements=["scikit-learn", "pandas"],
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            **common,
        )
    from shipml.versioning._pyfunc import ObjectModel

    return mlflow.pyfunc.log_model(
        python_model=ObjectModel(model), pip_requirements=["cloudpickle", "pandas"], **common
    )


def _naive_utc(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """MLflow's schemas know only naive datetimes: time-zone-aware columns as naive UTC."""
    if frame is None:
        return None
    aware = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    return frame.assign(**{c: frame[c].dt.tz_convert(None) for c in aware}) if aware else frame


def _load_model(uri: str) -> Any:
    """The model object itself: the estimator for scikit-learn, the wrapped object otherwise."""
    import mlflow.pyfunc
    import mlflow.sklearn

    pyfunc = mlflow.pyfunc.load_model(uri)
    if "sklearn" in pyfunc.metadata.flavors:
        return mlflow.sklearn.load_model(uri)
    return pyfunc.unwrap_python_model().model


def _aliases_of(aliases: Mapping[str, str], version: str) -> tuple[str, ...]:
    return tuple(sorted(alias for alias, v in aliases.items() if str(v) == str(version)))


def _version_info(version: Any, aliases: tuple[str, ...]) -> ModelVersionInfo:
    tags = dict(version.tags or {})
    metrics = {
        key.removeprefix("metric."): float(value)
        for key, value in tags.items()
        if key.startswith("metric.")
    }
    return ModelVersionInfo(
        ref=ModelRef(str(version.name), str(version.version), None, version.run_id),
        aliases=aliases,
        created_at=datetime.fromtimestamp(version.creation_timestamp / 1000, tz=UTC),
        metrics=metrics,
        tags={k: v for k, v in tags.items() if not k.startswith("metric.")},
    )


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:500]
