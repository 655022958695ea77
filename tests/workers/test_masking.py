"""Masking secrets in what a run writes: every byte of every occurrence hidden, one `***` per
hidden stretch, the same whatever pieces the stream comes in."""

import itertools
import random

import pytest

from workers.masking import Masker, mask_bytes, mask_json, mask_text


def fed_in_pieces(data: bytes, secrets: list[str], cuts: list[int]) -> bytes:
    masker = Masker(secrets)
    edges = [0, *cuts, len(data)]
    written = [masker.feed(data[start:end]) for start, end in itertools.pairwise(edges)]
    return b"".join(written) + masker.finish()


def every_split(data: bytes, secrets: list[str]) -> set[bytes]:
    """What the masker writes for every way of cutting `data` in two and in three."""
    outcomes = set()
    for first in range(len(data) + 1):
        outcomes.add(fed_in_pieces(data, secrets, [first]))
        for second in range(first, len(data) + 1):
            outcomes.add(fed_in_pieces(data, secrets, [first, second]))
    return outcomes


@pytest.mark.parametrize(
    ("data", "secrets", "masked"),
    [
        (b"token=hunter2\n", ["hunter2"], b"token=***\n"),
        (b"hunter2 and hunter2", ["hunter2"], b"*** and ***"),
        # Touching occurrences are one stretch: where one ends and the next begins is hidden.
        (b"[hunter2hunter2]", ["hunter2"], b"[***]"),
        # Overlapping secrets: "abcd" and "cdef" in "abcdef" hide all of it.
        (b"xabcdefx", ["abcd", "cdef"], b"x***x"),
        # A secret that is the beginning of another: the longer one is hidden whole.
        (b"<abcdef> <abc>", ["abc", "abcdef"], b"<***> <***>"),
        # A secret inside another.
        (b"<xabcx>", ["abc", "xabcx"], b"<***>"),
        # A secret that overlaps itself.
        (b"-aaaa-", ["aaa"], b"-***-"),
        (b"nothing here", ["hunter2"], b"nothing here"),
        (b"no secrets at all", [], b"no secrets at all"),
        ("café ünïcode".encode(), ["ünï"], "café ***code".encode()),
    ],
)
def test_every_occurrence_is_hidden_whatever_the_pieces(data, secrets, masked):
    assert mask_bytes(data, secrets) == masked
    assert every_split(data, secrets) == {masked}


def test_a_secret_split_across_many_small_pieces_is_caught():
    secret = "s3cr3t-value-0123456789"
    data = f"before {secret} after\n".encode()
    assert fed_in_pieces(data, [secret], list(range(1, len(data)))) == b"before *** after\n"


def test_random_streams_mask_as_the_whole_does():
    generator = random.Random(13)
    for _ in range(300):
        secrets = ["".join(generator.choices("ab", k=generator.randint(1, 4))) for _ in range(3)]
        data = "".join(generator.choices("abc", k=generator.randint(0, 30))).encode()
        cuts = sorted(generator.sample(range(len(data) + 1), min(len(data) + 1, 4)))
        masked = mask_bytes(data, secrets)
        assert fed_in_pieces(data, secrets, cuts) == masked, (data, secrets, cuts)
        assert not any(secret.encode() in masked for secret in secrets), (data, secrets)


def test_only_what_could_begin_a_secret_is_held_back():
    masker = Masker(["hunter2"])
    assert masker.feed(b"line one\n") == b"line one\n"
    assert masker.feed(b"pass: hun") == b"pass: "
    assert masker.feed(b"ter2!\n") == b"***!\n"
    assert masker.feed(b"the end: h") == b"the end: "
    assert masker.finish() == b"h"


def test_a_stretch_that_may_grow_is_held_back_until_it_cannot():
    masker = Masker(["ab"])
    assert masker.feed(b"xab") == b"x"
    assert masker.feed(b"a") == b""
    assert masker.feed(b"bc") == b"***c"


def test_results_are_masked_in_texts_keys_and_numbers():
    results = {"token": "hunter2", "hunter2": 1, "nested": [{"note": "a hunter2 b"}], "pin": 4242,
               "ok": True, "n": None}
    assert mask_json(results, ["hunter2", "4242"]) == {
        "token": "***", "***": 1, "nested": [{"note": "a *** b"}], "pin": "***", "ok": True, "n": None,
    }


def test_text_without_secrets_is_left_as_it_is():
    assert mask_text("plain", ["hunter2"]) == "plain"
    assert mask_text("a hunter2", ["hunter2"]) == "a ***"
