"""Monitoring math: mergeable profiles, drift metrics, the prediction-shift rule, latencies,
estimated performance (CBPE).

Pure computation on pandas/numpy/scipy (no store, HTTP or HTML here); every object is a
Pydantic model that round-trips through JSON exactly, so the run store can keep it as JSON.
"""

from shipml.errors import MonitoringError
from shipml.monitoring.alerts import (
    ESTIMATED_PERFORMANCE,
    PREDICTION_SHIFT,
    CandidateAlert,
    Severity,
    class_mix_alerts,
    drift_alerts,
    estimate_alerts,
    latency_alerts,
    shift_alerts,
)
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.calibration import (
    IsotonicCalibration,
    expected_calibration_error,
    fit_calibration,
    needs_calibration,
)
from shipml.monitoring.class_shift import ClassMixResult, ClassReference, alpha_of, class_shift
from shipml.monitoring.confidence import ConfidenceSummary
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
from shipml.monitoring.estimation import (
    ESTIMATED_METRICS,
    EstimatedMetric,
    EstimateResult,
    PerformanceReference,
    estimate,
    estimate_chunks,
    estimate_window,
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
    "ESTIMATED_METRICS",
    "ESTIMATED_PERFORMANCE",
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
    "ConfidenceSummary",
    "DriftConfig",
    "DriftMethod",
    "DriftMethodSpec",
    "DriftResult",
    "EstimateResult",
    "EstimatedMetric",
    "IsotonicCalibration",
    "LatencyHistogram",
    "LatencyProfile",
    "LatencySummary",
    "Moments",
    "MonitoringBaseline",
    "MonitoringConfig",
    "MonitoringError",
    "NumericColumnProfile",
    "NumericColumnSpec",
    "PerformanceReference",
    "PredictionReference",
    "Profile",
    "ProfileSpec",
    "Severity",
    "ShiftMeasure",
    "ShiftResult",
    "ShiftStatistic",
    "WindowEvaluation",
    "alpha_of",
    "class_mix_alerts",
    "class_shift",
    "detect_drift",
    "drift_alerts",
    "estimate",
    "estimate_alerts",
    "estimate_chunks",
    "estimate_window",
    "evaluate_shift",
    "evaluate_window",
    "expected_calibration_error",
    "fit_calibration",
    "latency_alerts",
    "merge",
    "needs_calibration",
    "prediction_shift",
    "prediction_shifts",
    "profile",
    "profile_rows",
    "shift_alerts",
    "summarize_samples",
]
