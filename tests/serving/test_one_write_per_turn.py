"""A response's writes within one turn of the event loop leave as one (real sockets)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from shipml.serving.server import OneWritePerTurn

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"
BODY = b"body"

Scenario = Callable[[OneWritePerTurn, socket.socket], Awaitable[bytes]]


def _with_connection(scenario: Scenario) -> bytes:
    """Run `scenario` on a transport wrapped in `OneWritePerTurn`, with the peer's socket."""

    async def connected() -> bytes:
        ours, peer = socket.socketpair()
        peer.setblocking(False)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        try:
            return await scenario(OneWritePerTurn(transport, loop), peer)
        finally:
            transport.close()
            peer.close()

    return asyncio.run(connected())


def _received(peer: socket.socket) -> bytes:
    try:
        return peer.recv(65536)
    except BlockingIOError:
        return b""


def test_head_and_body_go_out_together_at_the_end_of_the_turn() -> None:
    async def scenario(writer: OneWritePerTurn, peer: socket.socket) -> bytes:
        writer.write(HEAD)
        writer.write(BODY)
        assert _received(peer) == b""  # held within the turn
        await asyncio.sleep(0.01)
        return _received(peer)

    assert _with_connection(scenario) == HEAD + BODY


def test_closing_sends_what_was_written_first() -> None:
    async def scenario(writer: OneWritePerTurn, peer: socket.socket) -> bytes:
        writer.write(HEAD)
        writer.write(BODY)
        writer.close()
        await asyncio.sleep(0.01)
        received = _received(peer)
        assert _received(peer) == b""  # then the end of the stream
        assert writer.is_closing()
        return received

    assert _with_connection(scenario) == HEAD + BODY


def test_writes_of_later_turns_keep_their_order() -> None:
    async def scenario(writer: OneWritePerTurn, peer: socket.socket) -> bytes:
        writer.write(b"1")
        await asyncio.sleep(0)
        writer.write(b"2")
        writer.write(b"3")
        await asyncio.sleep(0.01)
        return _received(peer)

    assert _with_connection(scenario) == b"123"
