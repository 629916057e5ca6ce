"""The micro-batcher by itself: answers first, bookkeeping a moment later and in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from shipml.serving.batching import Answers, BatchItem, MicroBatcher


class Recorder:
    """A scoring function whose bookkeeping notes which requests each batch held."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, ...]] = []

    def score(self, batch: Sequence[BatchItem]) -> Answers:
        ids = tuple(item.request_id for item in batch)
        outcomes: list[Any] = [f"answer to {id_}" for id_ in ids]
        return Answers(outcomes, lambda: self.recorded.append(ids))


def batcher_of(recorder: Recorder) -> MicroBatcher:
    return MicroBatcher(recorder.score, max_rows=16, wait_seconds=0, max_queued_rows=100)


def test_answers_come_at_once_and_the_bookkeeping_in_order_once_asked_for() -> None:
    async def scenario() -> tuple[list[Any], list[tuple[str, ...]], list[tuple[str, ...]]]:
        recorder = Recorder()
        batcher = batcher_of(recorder)
        batcher.start()
        answers = [await batcher.submit([{}], request_id) for request_id in ("a", "b", "c")]
        before = list(recorder.recorded)
        await batcher.recorded()
        after = list(recorder.recorded)
        await batcher.stop()
        return answers, before, after

    answers, before, after = asyncio.run(scenario())
    assert answers == ["answer to a", "answer to b", "answer to c"]
    assert before == [], "bookkeeping waits, so it never delays the next request"
    assert after == [("a",), ("b",), ("c",)]


def test_bookkeeping_runs_by_itself_after_its_delay_and_at_stop() -> None:
    async def scenario() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        recorder = Recorder()
        batcher = batcher_of(recorder)
        batcher.start()
        await batcher.submit([{}], "a")
        await asyncio.sleep(batcher.RECORD_DELAY_SECONDS * 4)
        by_itself = list(recorder.recorded)
        await batcher.submit([{}], "b")
        await batcher.stop()
        return by_itself, recorder.recorded

    by_itself, at_stop = asyncio.run(scenario())
    assert by_itself == [("a",)]
    assert at_stop == [("a",), ("b",)], "nothing answered goes unrecorded at shutdown"
