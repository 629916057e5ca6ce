"""The canary: a fixed share of requests answered by the challenger, sticky by a request key.

A request's key is the header `[serving] canary_key_header` when it is sent, else the
value of `[serving] canary_key_field` in its first record, else its request id (then the
request is not sticky: the same caller may get either version). The key is hashed
(BLAKE2b, 64 bits) to a number in [0, 1): below `canary_fraction`, the challenger answers.
The same key thus always gets the same version while the aliases stay where they are, and
over many keys the challenger's share is the fraction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from shipml.serving.shapes import Record

_SCALE = float(2**64)


class Canary:
    """Decides which requests the challenger answers."""

    def __init__(self, fraction: float, *, key_field: str | None, key_header: str) -> None:
        self.fraction = fraction
        self._field = key_field
        self._header = key_header.lower()

    def key(self, headers: Mapping[str, str], records: list[Record], request_id: str) -> str:
        """The request's key: its header, else its first record's key field, else its id."""
        sent = headers.get(self._header)
        if sent:
            return sent
        if self._field is not None and records and self._field in records[0]:
            return str(records[0][self._field])
        return request_id

    def chooses_challenger(self, key: str) -> bool:
        """Whether the challenger answers requests with `key`."""
        return share(key) < self.fraction


def share(key: str) -> float:
    """Where `key` falls in [0, 1), uniformly over keys and the same for the same key."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE
