"""Where a column broke which rule: row positions per (rule, message)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Failures:
    """Rule failures of one column: (rule, message) -> positions in the frame."""

    by_rule: dict[tuple[str, str], list[np.ndarray]] = field(default_factory=dict)

    def add(self, rule: str, message: str, positions: np.ndarray) -> None:
        """Record that the rows at `positions` broke `rule`."""
        if len(positions):
            self.by_rule.setdefault((rule, message), []).append(positions)

    def merged(self) -> dict[tuple[str, str], np.ndarray]:
        """(rule, message) -> sorted positions."""
        return {
            key: np.sort(np.concatenate(parts)) if len(parts) > 1 else parts[0]
            for key, parts in self.by_rule.items()
        }

    def mark_invalid(self, invalid: np.ndarray) -> None:
        """Set `invalid[p]` for every failing position `p`."""
        for parts in self.by_rule.values():
            for positions in parts:
                invalid[positions] = True
