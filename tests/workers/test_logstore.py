"""The master's log store: the file size is the acknowledged offset."""

import threading

from runs.logstore import FileLogStore


def test_chunks_are_written_once_and_never_with_a_gap(tmp_path):
    store = FileLogStore(tmp_path)
    assert store.append("abcdef", 0, 0, b"one\n") == 4
    assert store.append("abcdef", 0, 0, b"one\n") == 4  # repeated: nothing new
    assert store.append("abcdef", 0, 2, b"e\ntwo\n") == 8  # overlapping: only the new bytes
    assert store.append("abcdef", 0, 20, b"far\n") == 8  # a gap: nothing written
    assert store.read("abcdef", 0) == b"one\ntwo\n"
    assert store.read("abcdef", 0, offset=4, limit=2) == b"tw"
    assert store.size("abcdef", 0) == 8
    assert store.size("abcdef", 1) == 0 and store.read("abcdef", 1) == b""


def test_readers_never_see_half_a_chunk(tmp_path):
    store = FileLogStore(tmp_path)
    chunk = b"".join(b"line %06d\n" % number for number in range(400000))
    torn = []

    def read_while_writing():
        while store.size("r", 0) < 10 * len(chunk):
            data = store.read("r", 0)
            if len(data) % len(chunk):
                torn.append(len(data))

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    for index in range(10):
        store.append("r", 0, index * len(chunk), chunk)
    reader.join()
    assert torn == []
