"""Concurrent clients posting to /predict, bounded in requests or in seconds."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Load:
    """What the clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    versions: list[str] = field(default_factory=list)  # per 200 answer, in arrival order
    failures: list[str] = field(default_factory=list)  # anything but a 200, described
    latencies: list[float] = field(default_factory=list)
    sent: int = 0


def load(
    base_url: str,
    payload: Any,
    *,
    clients: int,
    seconds: float | None = None,
    requests: int | None = None,
    headers: dict[str, str] | None = None,
    until: threading.Event | None = None,
) -> Load:
    """Post `payload` from `clients` concurrent clients until `seconds` or `requests` run out
    (or `until` is set)."""
    assert seconds is not None or requests is not None
    stop = until or threading.Event()
    return asyncio.run(_load(base_url, payload, clients, seconds, requests, headers or {}, stop))


async def _load(
    base_url: str,
    payload: Any,
    clients: int,
    seconds: float | None,
    requests: int | None,
    headers: dict[str, str],
    stop: threading.Event,
) -> Load:
    seen = Load()
    stop_at = time.monotonic() + seconds if seconds is not None else float("inf")
    budget = [requests if requests is not None else -1]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one_client() -> None:
            while time.monotonic() < stop_at and budget[0] != 0 and not stop.is_set():
                budget[0] -= 1
                seen.sent += 1
                started = time.perf_counter()
                try:
                    response = await client.post("/predict", json=payload, headers=headers)
                except httpx.HTTPError as error:
                    seen.failures.append(f"{type(error).__name__}: {error}")
                    continue
                seen.latencies.append(time.perf_counter() - started)
                seen.statuses[response.status_code] += 1
                if response.status_code == 200:
                    seen.versions.append(response.json()["model"]["version"])
                else:
                    seen.failures.append(f"{response.status_code}: {response.text[:300]}")

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return seen
