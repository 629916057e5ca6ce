"""Monitoring math: mergeable profiles, drift metrics, the prediction-shift rule, latencies.

Pure computation on pandas/numpy/scipy (no store, HTTP or HTML here); every object is a
Pydantic model that round-trips through JSON exactly, so the run store can keep it as JSON.
"""

from shipml.errors import MonitoringError
from shipml.monitoring.alerts import (
    PREDICTION_SHIFT,
    CandidateAlert,
    Severity,
    class_mix_alerts,
    drift_alerts,
    latency_alerts,
    shift_alerts,
)
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.class_shift import ClassMixResult, ClassReference, alpha_of, class_shift
from shipml.monitoring.drift import (
    DEFAULT_THRESHOLDS,
    DRIFT_METHODS,
    NULL_RATE,
    ColumnDriftRule,
    DriftConfig,
    DriftMethod,
    DriftMethodSpec,
    DriftResult,
    detect_drift,
)
from shipml.monitoring.latency import (
    DEFAULT_BOUNDS,
    END_TO_END,
    PERCENTILES,
    LatencyHistogram,
    LatencyProfile,
    LatencySummary,
    summarize_samples,
)
from shipml.monitoring.moments import Moments
from shipml.monitoring.profiles import (
    CategoricalColumnProfile,
    NumericColumnProfile,
    Profile,
    merge,
    profile,
)
from shipml.monitoring.shadow import (
    ShadowProfile,
    ShadowProfiles,
    compare_predictions,
    shadow_profile,
)
from shipml.monitoring.shift import (
    DEFAULT_K,
    MIN_CHUNKS,
    PredictionReference,
    ShiftMeasure,
    ShiftResult,
    ShiftStatistic,
    evaluate_shift,
    prediction_shift,
    prediction_shifts,
)
from shipml.monitoring.spec import CategoricalColumnSpec, NumericColumnSpec, ProfileSpec
from shipml.monitoring.window import (
    MonitoringConfig,
    WindowEvaluation,
    evaluate_window,
    profile_rows,
)

__all__ = [
    "DEFAULT_BOUNDS",
    "DEFAULT_K",
    "DEFAULT_THRESHOLDS",
    "DRIFT_METHODS",
    "END_TO_END",
    "MIN_CHUNKS",
    "NULL_RATE",
    "PERCENTILES",
    "PREDICTION_SHIFT",
    "CandidateAlert",
    "CategoricalColumnProfile",
    "CategoricalColumnSpec",
    "ClassMixResult",
    "ClassReference",
    "ColumnDriftRule",
    "DriftConfig",
    "DriftMethod",
    "DriftMethodSpec",
    "DriftResult",
    "LatencyHistogram",
    "LatencyProfile",
    "LatencySummary",
    "Moments",
    "MonitoringBaseline",
    "MonitoringConfig",
    "MonitoringError",
    "NumericColumnProfile",
    "NumericColumnSpec",
    "PredictionReference",
    "Profile",
    "ProfileSpec",
    "Severity",
    "ShadowProfile",
    "ShadowProfiles",
    "ShiftMeasure",
    "ShiftResult",
    "ShiftStatistic",
    "WindowEvaluation",
    "alpha_of",
    "class_mix_alerts",
    "class_shift",
    "compare_predictions",
    "detect_drift",
    "drift_alerts",
    "evaluate_shift",
    "evaluate_window",
    "latency_alerts",
    "merge",
    "prediction_shift",
    "prediction_shifts",
    "profile",
    "profile_rows",
    "shadow_profile",
    "shift_alerts",
    "summarize_samples",
]
