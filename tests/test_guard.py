"""The guarded websocket protocol's lighter parts (server/guard.py): its inbox and write
gate behave as the asyncio Queue and Event they replace, for one reader; a frame built
once is what websockets would send."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol

from server.guard import _Gate, _Inbox, text_frame


async def test_inbox_hands_messages_over_in_order_and_wakes_its_reader() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    inbox.put_nowait({"type": "websocket.connect"})
    assert not inbox.empty()
    assert await inbox.get() == {"type": "websocket.connect"}
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert await asyncio.wait_for(reader, 1) == 1
    assert await inbox.get() == 2 and inbox.empty()


async def test_a_cancelled_read_leaves_the_inbox_usable() -> None:
    inbox = _Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    inbox.put_nowait("x")
    assert await asyncio.wait_for(inbox.get(), 1) == "x"


async def test_gate_holds_writers_while_closed_and_lets_all_go_when_set() -> None:
    gate = _Gate()
    assert gate.is_set() and await gate.wait()
    gate.clear()
    writers = [asyncio.create_task(gate.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in writers) and not gate.is_set()
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(*writers), 1) == [True, True, True]


def test_a_ready_made_frame_is_what_the_protocol_would_send() -> None:
    data = b'{"type":"ticket.called","seq":7,"ticket":{"number":"KT001"}}'
    server = ServerProtocol()
    server.state = server.state.__class__.OPEN  # as after the handshake
    server.send_text(data)
    assert b"".join(server.data_to_send()) == text_frame(data)
    assert text_frame(data) == Frame(Opcode.TEXT, data).serialize(mask=False)
