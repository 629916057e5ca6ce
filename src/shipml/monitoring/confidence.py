"""`ConfidenceSummary`: what CBPE needs of a window's calibrated probabilities, mergeable.

CBPE's accuracy, precision, recall and F1 need four sums: the rows, the rows predicted
positive, and the sum of calibrated probabilities p over all rows and over the rows
predicted positive (expected TP = sum of p where predicted positive, FP = those rows minus
TP, FN = sum of p elsewhere, TN = the rest). Its ROC AUC needs the rows in order of p: the
summary keeps, per bin of p, the rows and the sum of p. Bins are equal in log-odds, 0.05
wide over logit(p) in [-10, 10] (p from 4.5e-5 to 0.99995), plus one bin at each end: rows
of one bin count as tied. Within a bin the probabilities differ by at most 5% in odds, so
the ROC curve through the bin's rows is all but straight and the AUC differs from the
curve through every row by far less than 1e-3 (tests measure it). Summaries of parts of a
window add up to the whole's (Dask partitions).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from shipml.errors import MonitoringError

LOGIT_LIMIT = 10.0
LOGIT_STEP = 0.05
BINS = round(2 * LOGIT_LIMIT / LOGIT_STEP) + 2  # inner bins, and one beyond each end


class ConfidenceSummary(BaseModel):
    """Counts and sums of calibrated probabilities of (a part of) a window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int
    predicted_positive: int  # rows the model labels positive
    mass: float  # sum of calibrated p over all rows: the expected positives
    mass_predicted_positive: float  # sum of p over the rows labelled positive: expected TP
    first_bin: int = 0  # counts and sums start at this bin (empty bins before it are left out)
    counts: list[int]  # rows per bin of p, from `first_bin` on
    sums: list[float]  # sum of p per bin

    @model_validator(mode="after")
    def _check(self) -> ConfidenceSummary:
        if len(self.counts) != len(self.sums) or self.first_bin + len(self.counts) > BINS:
            raise ValueError(f"counts and sums must match and fit in {BINS} bins")
        if sum(self.counts) != self.rows or not 0 <= self.predicted_positive <= self.rows:
            raise ValueError("the bins must count every row, and positives at most every row")
        return self

    @classmethod
    def of(
        cls,
        calibrated: np.ndarray,
        predicted_positive: np.ndarray,
        bins: np.ndarray | None = None,
    ) -> ConfidenceSummary:
        """The summary of calibrated probabilities and the model's positive/negative labels
        (`bins`: their `bin_index`, when known already)."""
        p = np.asarray(calibrated, dtype=np.float64)
        labelled = np.asarray(predicted_positive, dtype=bool)
        if p.shape != labelled.shape or p.ndim != 1:
            raise MonitoringError("a confidence summary needs one probability and label per row")
        if len(p) and not (p.min() >= 0 and p.max() <= 1):  # NaN fails the comparison too
            raise MonitoringError("calibrated probabilities must be finite and within [0, 1]")
        index = bin_index(p) if bins is None else bins
        counts = np.bincount(index, minlength=BINS)
        sums = np.bincount(index, weights=p, minlength=BINS)
        return cls._trimmed(
            rows=len(p),
            predicted_positive=int(np.count_nonzero(labelled)),
            mass=float(p.sum()),
            mass_predicted_positive=float(p[labelled].sum()),
            counts=counts,
            sums=sums,
        )

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """Counts and sums over all `BINS` bins."""
        counts, sums = np.zeros(BINS), np.zeros(BINS)
        end = self.first_bin + len(self.counts)
        counts[self.first_bin : end] = self.counts
        sums[self.first_bin : end] = self.sums
        return counts, sums

    def merge(self, other: ConfidenceSummary) -> ConfidenceSummary:
        """The summary of both parts together."""
        (counts, sums), (more, extra) = self.dense(), other.dense()
        return self._trimmed(
            rows=self.rows + other.rows,
            predicted_positive=self.predicted_positive + other.predicted_positive,
            mass=self.mass + other.mass,
            mass_predicted_positive=self.mass_predicted_positive + other.mass_predicted_positive,
            counts=counts + more,
            sums=sums + extra,
        )

    @classmethod
    def _trimmed(
        cls,
        *,
        rows: int,
        predicted_positive: int,
        mass: float,
        mass_predicted_positive: float,
        counts: np.ndarray,
        sums: np.ndarray,
    ) -> ConfidenceSummary:
        filled = np.flatnonzero(counts)
        first, last = (int(filled[0]), int(filled[-1]) + 1) if len(filled) else (0, 0)
        return cls(
            rows=rows,
            predicted_positive=predicted_positive,
            mass=mass,
            mass_predicted_positive=mass_predicted_positive,
            first_bin=first,
            counts=counts[first:last].astype(np.int64).tolist(),
            sums=sums[first:last].astype(np.float64).tolist(),
        )


def bin_index(calibrated: np.ndarray) -> np.ndarray:
    """The bin of each probability: 0 below logit -10, BINS - 1 from +10 on."""
    with np.errstate(divide="ignore"):  # p = 0 or 1: logit -inf or +inf, the end bins
        logit = np.log(calibrated) - np.log1p(-calibrated)
    position = np.floor((logit + LOGIT_LIMIT) / LOGIT_STEP) + 1  # arithmetic: 10x a search
    np.maximum(position, 0, out=position)  # np.clip, without its wrapper's 3 us
    index: np.ndarray = np.minimum(position, BINS - 1, out=position).astype(np.intp)
    return index
