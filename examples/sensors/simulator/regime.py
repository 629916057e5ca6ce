"""The parameters of the simulated process that a fault may change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regime:
    """How often machines fail: the chance of one failure per machine in each 8-hour block."""

    failure_probability: float = 0.24

    def __post_init__(self) -> None:
        if not 0.0 <= self.failure_probability <= 1.0:
            raise ValueError(
                f"failure_probability must be within [0, 1], got {self.failure_probability}"
            )
