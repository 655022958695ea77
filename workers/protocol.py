"""What both ends of the worker protocol (docs/protocol.md) agree on. It imports only the
standard library, so the worker client, which runs without Django, shares it with the master."""

import struct
from dataclasses import dataclass

# The largest message either end takes, in bytes of its JSON text or binary frame: daphne ends
# a connection that brings a larger one (runmaster's websocket_max_message_size), and so does
# the worker client (its max_size). Neither end sends a larger one: it would end the
# connection, and the same message would go again after the reconnection, forever.
MAX_MESSAGE_BYTES = 1024 * 1024

# A log chunk in a binary frame (docs/protocol.md, "Binary log frames"): this header, the run
# identifier (ASCII), then the log's raw bytes. Big-endian: kind, request id, step, offset,
# length of the run identifier.
LOG_FRAME = 1
LOG_FRAME_HEADER = struct.Struct(">BQIQB")
MAX_RUN_IDENTIFIER_BYTES = 32
# Raw log bytes per binary frame: as many as fit in a message with the longest header.
BINARY_CHUNK_BYTES = MAX_MESSAGE_BYTES - LOG_FRAME_HEADER.size - MAX_RUN_IDENTIFIER_BYTES
# The field of the master's `hello` answer that says it takes binary log frames; without it
# (an older master) the worker client sends log chunks as JSON with base64.
BINARY_LOGS = "binary_logs"


class FrameError(ValueError):
    """A binary frame that is not a log frame; `request_id` if the header was whole."""

    def __init__(self, message: str, request_id: int | None = None):
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True)
class LogFrame:
    request_id: int
    run: str
    step: int
    offset: int
    data: bytes


def encode_log_frame(request_id: int, run: str, step: int, offset: int, data: bytes) -> bytes:
    identifier = run.encode("ascii")
    return LOG_FRAME_HEADER.pack(LOG_FRAME, request_id, step, offset, len(identifier)) + identifier + data


def decode_log_frame(frame: bytes) -> LogFrame:
    """The log chunk a binary frame carries; FrameError saying what is wrong with it."""
    if len(frame) < LOG_FRAME_HEADER.size:
        raise FrameError(
            f"a binary frame is a log chunk: a header of {LOG_FRAME_HEADER.size} bytes, the run "
            f"identifier, then the log's bytes; this one has {len(frame)} bytes"
        )
    kind, request_id, step, offset, length = LOG_FRAME_HEADER.unpack_from(frame)
    if kind != LOG_FRAME:
        raise FrameError(f"unknown binary frame kind {kind} (a log chunk is {LOG_FRAME})", request_id)
    if not 1 <= length <= MAX_RUN_IDENTIFIER_BYTES:
        raise FrameError(
            f"a binary log frame's run identifier has 1 to {MAX_RUN_IDENTIFIER_BYTES} bytes, "
            f"not {length}", request_id,
        )
    end = LOG_FRAME_HEADER.size + length
    if len(frame) < end:
        raise FrameError("the binary log frame ends inside its run identifier", request_id)
    try:
        run = frame[LOG_FRAME_HEADER.size:end].decode("ascii")
    except UnicodeDecodeError:
        raise FrameError("a binary log frame's run identifier must be ASCII", request_id) from None
    return LogFrame(request_id, run, step, offset, bytes(frame[end:]))
