"""A run's secrets on the worker: taken from the run directory by the executor, and replaced by
`***` in what the run writes. Standard library only: the executor (workers/executor.py)
imports it, and masks every byte before it reaches the run directory.

Every byte of every occurrence of any secret is hidden, and a stretch of hidden bytes (secrets
that overlap, that touch, or one inside another) becomes a single `***`: nothing of a secret
shows, not even where one ends and the next begins. `Masker` does the same to a stream read in
pieces, whatever the pieces: it holds back the end of what it was given while that end could be
the start of a secret, so a value split across two reads is caught, and lets the rest through
at once.
"""

import json
import os
import select
from typing import BinaryIO

# Written by the worker client beside run.json, mode 0600, and removed by the executor as it
# starts: {variable: value}.
SECRETS_FILE = "secrets.json"
MASK = b"***"
MASK_TEXT = MASK.decode()


def _hidden_stretches(data: bytes, secrets: list[bytes]) -> list[list[int]]:
    """[start, end) of the stretches of `data` covered by occurrences of secrets, merged when
    they overlap or touch, in order."""
    spans = []
    for secret in secrets:
        start = data.find(secret)
        while start >= 0:
            spans.append((start, start + len(secret)))
            start = data.find(secret, start + 1)
    spans.sort()
    stretches: list[list[int]] = []
    for start, end in spans:
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], end)
        else:
            stretches.append([start, end])
    return stretches


def _masked(data: bytes, stretches: list[list[int]]) -> bytes:
    pieces, position = [], 0
    for start, end in stretches:
        pieces += [data[position:start], MASK]
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)


def take_secrets(run_directory: str) -> dict[str, str]:
    """The run's secrets ({variable: value}), removing their file: from now on they live in
    this process alone."""
    path = os.path.join(run_directory, SECRETS_FILE)
    try:
        with open(path) as file:
            secrets = json.load(file)
    except FileNotFoundError:
        return {}
    os.remove(path)
    return {str(name): str(value) for name, value in secrets.items()}


class Masker:
    """Masks a stream given in pieces: `feed` returns what can be written now, `finish` the
    rest. What it returns, put together, is `mask_bytes` of the whole stream."""

    def __init__(self, secrets: list[str]):
        # Longest first: where one secret is the start of another, the longer one decides how
        # much must be held back.
        self.secrets = sorted({secret.encode() for secret in secrets if secret}, key=len, reverse=True)
        self.pending = b""

    def feed(self, data: bytes) -> bytes:
        if not self.secrets:
            return data
        data = self.pending + data
        stretches = _hidden_stretches(data, self.secrets)
        safe = self._safe_end(data)
        # A stretch reaching the held-back end may grow with what comes next (a secret that
        # touches it): it waits whole, so that it still becomes one `***`.
        while stretches and stretches[-1][1] >= safe:
            safe = min(safe, stretches.pop()[0])
        self.pending = data[safe:]
        return _masked(data[:safe], stretches)

    def finish(self) -> bytes:
        """Everything held back, masked: the stream has ended."""
        data, self.pending = self.pending, b""
        return _masked(data, _hidden_stretches(data, self.secrets))

    def _safe_end(self, data: bytes) -> int:
        """Where the bytes that could begin a secret still to come start (len(data) if none):
        the longest end of `data` that is a proper beginning of some secret."""
        longest = 0
        for secret in self.secrets:
            for length in range(min(len(secret) - 1, len(data)), longest, -1):
                if data.endswith(secret[:length]):
                    longest = length
                    break
        return len(data) - longest


def mask_bytes(data: bytes, secrets: list[str]) -> bytes:
    masker = Masker(secrets)
    return masker.feed(data) + masker.finish()


def mask_text(text: str, secrets: list[str]) -> str:
    if not any(secret and secret in text for secret in secrets):
        return text
    return mask_bytes(text.encode("utf-8", "surrogatepass"), secrets).decode("utf-8", "surrogatepass")


def mask_json(value: object, secrets: list[str]) -> object:
    """`value` (results) with secrets masked in every text, key and number; a number that
    holds a secret becomes the text `***`-masked, since no number can show the mask."""
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, dict):
        return {mask_text(str(key), secrets): mask_json(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_json(item, secrets) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = json.dumps(value)
        masked = mask_text(text, secrets)
        return value if masked == text else masked
    return value


class MaskedPipe:
    """A step's output on its way to the step's log: the step writes into a pipe, and the
    executor copies what arrives into the log, masked, as it arrives."""

    READ_BYTES = 64 * 1024

    def __init__(self, log: BinaryIO, secrets: list[str]):
        self.read_end, self.write_end = os.pipe()
        self.log = log
        self.masker = Masker(secrets)
        # Every process holding the write end closed it: nothing more can come.
        self.ended = False

    def release_write_end(self) -> None:
        """Once the step started (or failed to): the step holds the write end, and ours must
        go, or the pipe would never end."""
        os.close(self.write_end)

    def pump(self, timeout: float) -> None:
        """Copy what the step writes within `timeout` seconds (at once if something came)."""
        readable, _, _ = select.select([self.read_end], [], [], timeout)
        if readable:
            self._copy(os.read(self.read_end, self.READ_BYTES))

    def close(self) -> None:
        """The step ended: copy what it left in the pipe and what was held back. Processes it
        left behind may keep the pipe open: what they write later is not waited for."""
        if self.read_end is None:
            return
        os.set_blocking(self.read_end, False)
        try:
            while not self.ended:
                self._copy(os.read(self.read_end, self.READ_BYTES))
        except BlockingIOError:
            pass
        os.close(self.read_end)
        self.read_end = None
        self.log.write(self.masker.finish())
        self.log.flush()

    def _copy(self, data: bytes) -> None:
        if not data:
            self.ended = True
            return
        self.log.write(self.masker.feed(data))
        self.log.flush()
