"""Readiness: the model is loaded, the registry answers, the run store answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

REGISTRY = "registry"
STORE = "store"


@dataclass
class Health:
    """What is wrong with the server's dependencies right now (nothing: ready)."""

    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """True when every dependency answered its last check."""
        return not self.problems

    def up(self, dependency: str) -> None:
        """`dependency` answered; log when it was not known to be up."""
        if self.problems.pop(dependency, None) is not None:
            log.info("%s reachable", dependency)

    def down(self, dependency: str, problem: str) -> None:
        """`dependency` failed its check; log when it goes down."""
        if dependency not in self.problems:
            log.warning("%s unreachable, reporting not ready: %s", dependency, problem)
        self.problems[dependency] = problem
