"""Any bytes a child writes end as a Reply or one of the channel's three errors (property-based).

The child is untrusted: whatever it forges, read_reply may only return a validated
Reply or raise ChannelTimeout, ChannelClosed or BadReply. Anything else would end
as "grade: internal error" (exit 3), which must mean a bug in the grader.
Example counts are modest so the suite stays fast; for a longer hunt set
GRADE_FUZZ_EXAMPLES, e.g. `GRADE_FUZZ_EXAMPLES=5000 pytest tests/test_wire_fuzz.py`.
"""

import json
import math
import os
import struct
import threading
import time

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from grader.sandbox import wire

CHANNEL_ERRORS = (wire.ChannelTimeout, wire.ChannelClosed, wire.BadReply)
FUZZ = settings(
    max_examples=int(os.environ.get("GRADE_FUZZ_EXAMPLES", 150)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def frame(payload):
    return struct.pack("<Q", len(payload)) + payload


def header_bytes(header):
    return header if isinstance(header, bytes) else json.dumps(header).encode()


def feed(data):
    """Write `data` into a pipe (then close it) and read one reply from the other end."""
    read, write = os.pipe()

    def writer():
        try:
            os.write(write, data)
        except OSError:  # the reader stopped early and closed its end
            pass
        finally:
            os.close(write)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        return wire.read_reply(read, time.monotonic() + 10)
    except CHANNEL_ERRORS as error:
        return error
    finally:
        os.close(read)
        thread.join()


def assert_plain(value, depth=0):
    """A decoded value holds only data the grader can judge, never an object of the child's making."""
    assert depth <= wire.MAX_DEPTH + 2
    if isinstance(value, np.ndarray):
        assert value.dtype.kind in "biuf" and not value.dtype.hasobject
    elif isinstance(value, (list, tuple)):
        for item in value:
            assert_plain(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            assert_plain(item, depth + 1)
    else:
        assert value is None or type(value) in (bool, int, float, wire.Other), type(value)


def assert_valid(outcome):
    if isinstance(outcome, CHANNEL_ERRORS):
        return
    assert isinstance(outcome, wire.Reply), repr(outcome)
    assert isinstance(outcome.status, str) and len(outcome.status) <= 40
    assert outcome.seconds is None or (
        type(outcome.seconds) is float and math.isfinite(outcome.seconds) and outcome.seconds >= 0
    )
    assert outcome.error is None or (
        set(outcome.error) == {"type", "message", "where", "text"}
        and all(text is None or (isinstance(text, str) and len(text) <= 300) for text in outcome.error.values())
    )
    assert isinstance(outcome.cell_errors, tuple)
    for record in outcome.cell_errors:
        assert record["cell"] is None or (type(record["cell"]) is int and record["cell"] > 0)
        assert all(isinstance(record[key], str) for key in ("where", "type", "message"))
    assert_plain(outcome.value)


# JSON of every type, numbers at the edges included (NaN, inf, ints far past int64).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**62, 2**63, 2**64, -1, 0, 10**400])
    | st.floats()
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)

dtypes = (
    st.sampled_from(
        ["<f8", "<f4", ">f8", "<i8", "|u1", "|b1", "|O", "<U3", "V8", "<M8[s]", "<c16", "(2,)f8", "f8,f8", "S0"]
    )
    | json_values
)
sizes = st.integers(min_value=-3, max_value=5) | st.sampled_from([2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64])
shapes = st.lists(sizes, max_size=4) | json_values
refs = st.integers(min_value=-2, max_value=4) | st.sampled_from([True, False, 0.0, float("nan"), "0", None])

leaves = st.one_of(
    st.fixed_dictionaries({"kind": st.just("array"), "ref": refs, "dtype": dtypes, "shape": shapes}),
    st.fixed_dictionaries({"kind": st.sampled_from(["number", "bool"]), "value": json_values}),
    st.just({"kind": "none"}),
    st.fixed_dictionaries({"kind": st.just("other"), "type": json_values}),
    json_values,
)
value_trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.fixed_dictionaries({"kind": st.sampled_from(["list", "tuple"]), "items": st.lists(inner, max_size=4)}),
        st.fixed_dictionaries(
            {
                "kind": st.just("dict"),
                "items": st.lists(st.tuples(st.text(max_size=4), inner).map(list) | json_values, max_size=4),
            }
        ),
    ),
    max_leaves=12,
)

cell_records = st.one_of(
    json_values,
    st.lists(
        st.fixed_dictionaries(
            {}, optional={"cell": json_values, "where": json_values, "type": json_values, "message": json_values}
        )
        | json_values,
        max_size=4,
    ),
)
headers = st.fixed_dictionaries(
    {"status": st.sampled_from(["ok", "ready", "error", "timeout", "memory"]) | json_values},
    optional={
        "arrays": st.integers(min_value=-1, max_value=4) | json_values,
        "value": value_trees,
        "seconds": json_values,
        "error": json_values | st.dictionaries(st.sampled_from(["type", "message", "where", "text"]), json_values),
        "cell_errors": cell_records,
    },
)
payloads = st.lists(st.binary(max_size=64) | st.integers(0, 8).map(lambda n: bytes(8 * n)), max_size=4)


@FUZZ
@given(st.binary(max_size=512))
@example(b"")
@example(frame(b"{}"))
@example(frame(b"[" * 100_000 + b"]" * 100_000))
@example(struct.pack("<Q", 2**64 - 1))
def test_any_bytes_end_in_a_reply_or_a_channel_error(data):
    assert_valid(feed(data))


@FUZZ
@given(st.lists(st.binary(max_size=256), max_size=4))
def test_any_frames_end_in_a_reply_or_a_channel_error(frames):
    assert_valid(feed(b"".join(frame(payload) for payload in frames)))


ARRAY = {"kind": "array", "ref": 0, "dtype": "<f8", "shape": [2]}


@FUZZ
@given(headers, payloads)
@example({"status": "ok", "cell_errors": {"cell": 1}}, [])
@example({"status": "ok", "cell_errors": 3}, [])
@example({"status": "ok", "cell_errors": [1, 2, 3]}, [])
@example({"status": "ok", "cell_errors": [{"cell": True, "type": ["x"], "message": None}]}, [])
@example({"status": "ok", "error": ["not", "a", "record"], "seconds": "1"}, [])
@example({"status": "ok", "seconds": 10**400}, [])
@example({"status": "ok", "seconds": float("nan")}, [])
@example({"status": "ok", "seconds": -1}, [])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "shape": [2**62, 4]}}, [b""])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "shape": [2**32, 2**32]}}, [b""])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "shape": [10**30]}}, [b""])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "shape": "12"}}, [bytes(16)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "shape": [True, 2]}}, [bytes(16)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "shape": [2.0]}}, [bytes(16)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "dtype": [["a", "<f8"]], "shape": [1]}}, [bytes(8)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "dtype": {"names": ["a"], "formats": ["<f8"]}}}, [bytes(16)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "ref": True}}, [bytes(16)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "ref": -1}}, [bytes(16)])
@example({"status": "ok", "arrays": 1, "value": {**ARRAY, "ref": float("nan")}}, [bytes(16)])
@example({"status": "ok", "arrays": True, "value": ARRAY}, [bytes(16)])
@example({"status": "ok", "value": {"kind": "dict", "items": [["a", {"kind": "none"}], "b"]}}, [])
@example({"status": "x" * 10_000, "value": {"kind": "other", "type": {"a": [1] * 1000}}}, [])
def test_forged_headers_end_in_a_reply_or_a_channel_error(header, arrays):
    assert_valid(feed(frame(header_bytes(header)) + b"".join(frame(payload) for payload in arrays)))


def test_deeply_nested_values_are_refused():
    depth = 5000  # far past MAX_DEPTH and the interpreter's recursion limit
    tree = b'{"kind": "list", "items": [' * depth + b'{"kind": "none"}' + b"]}" * depth
    assert isinstance(feed(frame(b'{"status": "ok", "value": ' + tree + b"}")), wire.BadReply)
    nested = b'{"status": "ok", "value": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    assert isinstance(feed(frame(nested)), wire.BadReply)


@FUZZ
@given(st.fixed_dictionaries({"dtype": dtypes, "shape": shapes}) | json_values, st.binary(max_size=64))
@example({"dtype": "<f8", "shape": [2**62, 4]}, b"")
@example({"dtype": "<i8", "shape": [2**63, 2]}, b"")
@example({"dtype": "|b1", "shape": [2**31, 2**31, 4]}, b"")
def test_array_from_bytes_builds_exactly_the_bytes_sent_or_refuses(spec, payload):
    try:
        array = wire.array_from_bytes(spec, payload)
    except wire.BadReply:
        return
    assert array.dtype.kind in "biuf" and array.nbytes == len(payload) and array.flags.owndata


@FUZZ
@given(value_trees, st.lists(st.just(np.zeros(2)), max_size=3))
def test_decode_and_array_specs_raise_only_bad_reply(tree, arrays):
    for walk in (lambda: wire.array_specs(tree), lambda: wire.decode(tree, arrays)):
        try:
            walk()
        except wire.BadReply:
            pass
