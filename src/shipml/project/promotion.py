"""Moving a registry alias through the promotion gate, recorded in the run store.

`promote` scores the candidate and the current champion on the same labelled rows (the
candidate's holdout by default; once the candidate has scored production windows as the
challenger and labels were joined to them, those labelled rows: `production_rows`), applies
`[promotion]` (`monitoring.promotion.judge`), and moves the alias only when the gate passes
or `force` is given. Every attempt is recorded (`RunStore.record_alias_move`): who, when,
from and to which version, the verdict and its comparison table, forced or not, and why
(manual, rollback, retraining); a refused one too.
`rollback` moves champion back to the version the last recorded move took it from.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass

from shipml.errors import PromotionRefused, RegistryError
from shipml.monitoring import GateVerdict, judge
from shipml.project.evaluation import CandidateHoldout, EvaluationData, metrics_on, target_of
from shipml.project.production_rows import production_metrics
from shipml.project.project import Project
from shipml.store import AliasMoveRecord, MoveReason

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class AliasMove:
    """What an alias move did: the record, and the gate's verdict when one ran."""

    record: AliasMoveRecord
    verdict: GateVerdict | None

    @property
    def moved(self) -> bool:
        """Whether the alias now points at the version."""
        return self.record.outcome == "moved"


def who() -> str:
    """user@host of this process, as the move's author."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def evaluate(project: Project, version: str, data: EvaluationData | None = None) -> GateVerdict:
    """Score `version` and the current champion on the same rows and apply `[promotion]`.

    Without `data`: the labelled production rows both predicted, when the candidate scored
    beside the champion as the challenger (`production_metrics`), else the candidate's holdout.
    """
    tracker = project.tracker
    candidate_info = tracker.version(version)
    champion_version = tracker.current(CHAMPION)
    if data is None and champion_version is not None and champion_version != version:
        found = production_metrics(project, version, champion_version)
        if found is not None:
            return judge(
                project.settings.promotion,
                task=found.task,
                candidate=found.candidate,
                champion=found.champion,
                candidate_version=version,
                champion_version=champion_version,
                evaluated_on=found.describe(),
            )
    data = data or CandidateHoldout(version)
    rows = data.rows(project)
    target = target_of(project, candidate_info, rows)
    candidate = metrics_on(project, tracker.load_version(version), rows, target)
    champion = None
    if champion_version is not None and champion_version != version:
        champion = metrics_on(project, tracker.load_version(champion_version), rows, target)
    else:
        champion_version = None
    return judge(
        project.settings.promotion,
        task=target.task,
        candidate=candidate,
        champion=champion,
        candidate_version=version,
        champion_version=champion_version,
        evaluated_on=f"{data.describe()} ({len(rows)} rows)",
    )


def promote(
    project: Project,
    version: str,
    *,
    alias: str = CHAMPION,
    force: bool = False,
    reason: MoveReason = "manual",
    data: EvaluationData | None = None,
    run_id: str | None = None,
    note: str | None = None,
) -> AliasMove:
    """Gate `version` against the champion, then point `alias` at it (or refuse and record).

    Raises `PromotionRefused` (after recording the refusal) when the gate fails and `force`
    is not given; with `force`, a failed gate is recorded with the move as forced.
    """
    tracker = project.tracker
    tracker.version(version)  # a missing version is a RegistryError before anything else
    try:
        verdict: GateVerdict | None = evaluate(project, version, data)
    except RegistryError as error:  # e.g. no stored holdout: only --force moves it then
        if not force:
            raise
        verdict, note = None, "; ".join(filter(None, [note, f"gate not run: {error}"]))
    passed = verdict is not None and verdict.passed
    moving = passed or force
    record = _record(
        project,
        alias,
        version,
        outcome="moved" if moving else "refused",
        reason=reason,
        forced=force and not passed,
        verdict=verdict,
        run_id=run_id,
        note=note,
    )
    if not moving:
        assert verdict is not None  # without a verdict, only a forced move gets here
        raise PromotionRefused(
            f"v{version} not promoted to {alias}: {verdict.summary} "
            "(recorded; `--force` promotes anyway)",
            move=AliasMove(record, verdict),
        )
    return AliasMove(record, verdict)


def rollback(project: Project, *, alias: str = CHAMPION, note: str | None = None) -> AliasMove:
    """Point `alias` back at the version the last recorded move took it from.

    Refused (`RegistryError`) when nothing is recorded, when the alias was moved outside
    shipml since, or when the last move came from nowhere. A second rollback undoes the first.
    """
    tracker = project.tracker
    current = tracker.current(alias)
    moved = [
        m
        for m in project.store.alias_moves(tracker.model_name, alias, limit=None)
        if m.outcome == "moved"
    ]
    last = moved[0] if moved else None
    name = tracker.model_name
    if current is None or last is None:
        raise RegistryError(
            f"no recorded move of {name}@{alias} to roll back (`shipml models history`)"
        )
    if last.to_version != current:
        raise RegistryError(
            f"{name}@{alias} points at v{current}, but its last recorded move put it on "
            f"v{last.to_version}: it was moved outside shipml; no earlier version is known "
            "(`shipml promote VERSION` moves it explicitly)"
        )
    if last.from_version is None or last.from_version == current:
        raise RegistryError(
            f"no earlier version of {name} to roll {alias} back to: its last move "
            f"(#{last.id}) put it on v{current} from "
            f"{'nothing' if last.from_version is None else 'v' + last.from_version}"
        )
    record = _record(
        project,
        alias,
        last.from_version,
        outcome="moved",
        reason="rollback",
        forced=False,
        verdict=None,
        run_id=None,
        note=note or f"back from v{current}",
    )
    return AliasMove(record, None)


def _record(
    project: Project,
    alias: str,
    version: str,
    *,
    outcome: str,
    reason: MoveReason,
    forced: bool,
    verdict: GateVerdict | None,
    run_id: str | None,
    note: str | None,
) -> AliasMoveRecord:
    """Move the alias (unless refused), then record the attempt."""
    tracker = project.tracker
    before = tracker.current(alias)
    if outcome == "moved":
        tracker.promote(version, alias)
    return project.store.record_alias_move(
        project.name,
        tracker.model_name,
        alias,
        from_version=before,
        to_version=version,
        outcome="moved" if outcome == "moved" else "refused",
        reason=reason,
        moved_by=who(),
        forced=forced,
        gate=None if verdict is None else verdict.model_dump(mode="json"),
        run_id=run_id,
        note=note,
    )
