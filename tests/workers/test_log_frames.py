"""Log chunks in binary frames (docs/protocol.md, "Binary log frames"): the format both ends
share, and the master's endpoint taking them like JSON `log` messages, driven by channels'
WebsocketCommunicator."""

import pytest

from orchestra.extensions import log_store
from tests.workers.master_endpoint import answer_offer, chunk, connect, hello, request, trigger, worker_user
from workers.protocol import (
    BINARY_CHUNK_BYTES, LOG_FRAME_HEADER, MAX_MESSAGE_BYTES, FrameError, LogFrame, decode_log_frame,
    encode_log_frame,
)


def test_a_log_frame_carries_its_request_run_step_offset_and_raw_bytes():
    frame = encode_log_frame(7, "a" * 32, 3, 2**40, b"\x00\xff raw\n")
    assert decode_log_frame(frame) == LogFrame(7, "a" * 32, 3, 2**40, b"\x00\xff raw\n")
    assert len(encode_log_frame(2**64 - 1, "a" * 32, 0, 0, b"y" * BINARY_CHUNK_BYTES)) == MAX_MESSAGE_BYTES


@pytest.mark.parametrize("frame, error, request_id", [
    (b"", "this one has 0 bytes", None),
    (encode_log_frame(5, "run", 0, 0, b"")[:LOG_FRAME_HEADER.size - 1], "header of 22 bytes", None),
    (b"\x02" + encode_log_frame(5, "run", 0, 0, b"x")[1:], "unknown binary frame kind 2", 5),
    (LOG_FRAME_HEADER.pack(1, 5, 0, 0, 0) + b"data", "1 to 32 bytes, not 0", 5),
    (LOG_FRAME_HEADER.pack(1, 5, 0, 0, 33) + b"r" * 40, "1 to 32 bytes, not 33", 5),
    (LOG_FRAME_HEADER.pack(1, 5, 0, 0, 10) + b"short", "ends inside its run identifier", 5),
    (LOG_FRAME_HEADER.pack(1, 5, 0, 0, 2) + "é".encode() + b"data", "must be ASCII", 5),
])
def test_a_malformed_log_frame_says_what_is_wrong_and_its_request_if_known(frame, error, request_id):
    with pytest.raises(FrameError, match=error) as raised:
        decode_log_frame(frame)
    assert raised.value.request_id == request_id



async def send_frame(communicator, frame: bytes) -> dict:
    await communicator.send_to(bytes_data=frame)
    return await communicator.receive_json_from(timeout=5)


@pytest.mark.database
@pytest.mark.django_db(transaction=True)
async def test_binary_chunks_are_stored_once_and_never_leave_a_gap():
    communicator = await connect(await worker_user())
    answer = await hello(communicator)
    assert answer["binary_logs"] is True
    run = await trigger()
    await answer_offer(communicator)

    frame = encode_log_frame(10, run.identifier, 0, 0, b"one\n\x00\xff\n")
    assert await send_frame(communicator, frame) == {"type": "response", "id": 10, "offset": 7}
    # Repeated: only its new bytes are written; beyond the end: nothing; JSON still works.
    assert (await send_frame(communicator, encode_log_frame(11, run.identifier, 0, 4, b"\x00\xff\nthree\n")))["offset"] == 13
    assert (await send_frame(communicator, encode_log_frame(12, run.identifier, 0, 20, b"later\n")))["offset"] == 13
    assert (await request(communicator, chunk(run, 13, b"json\n")))["offset"] == 18
    assert log_store().read(run.identifier, 0) == b"one\n\x00\xff\nthree\njson\n"
    await communicator.disconnect()


@pytest.mark.database
@pytest.mark.django_db(transaction=True)
async def test_a_bad_binary_frame_gets_an_error_and_the_connection_serves_on():
    communicator = await connect(await worker_user())
    run = await trigger()
    answer = await send_frame(communicator, encode_log_frame(3, run.identifier, 0, 0, b"early\n"))
    assert answer == {"type": "error", "id": 3, "error": "'log' before 'hello'"}
    await hello(communicator)
    await answer_offer(communicator)

    for frame, request_id, error in [
        (b"\x00binary", None, "a binary frame is a log chunk"),
        (b"\x09" + encode_log_frame(4, run.identifier, 0, 0, b"x\n")[1:], 4, "unknown binary frame kind"),
        (encode_log_frame(5, "f" * 32, 0, 0, b"forged\n"), 5, "unknown run"),
        (encode_log_frame(6, run.identifier, 7, 0, b"x\n"), 6, "has no step 7"),
        (encode_log_frame(2**63, run.identifier, 0, 0, b"x\n"), None, "needs an 'id'"),
    ]:
        answer = await send_frame(communicator, frame)
        assert answer["type"] == "error" and answer["id"] == request_id, answer
        assert error in answer["error"], answer
    assert log_store().read(run.identifier, 0) == b""
    assert (await send_frame(communicator, encode_log_frame(8, run.identifier, 0, 0, b"kept\n")))["offset"] == 5
    await communicator.disconnect()
