"""The data-only channel: round trips, and replies a hostile child might forge."""

import os

import numpy as np
import pytest

from grader.sandbox import wire


def round_trip(value):
    tree, arrays = wire.encode(value)
    tree = wire.loads(wire.dumps(tree))
    specs = wire.array_specs(tree)
    rebuilt = [wire.array_from_bytes(spec, np.ascontiguousarray(a).tobytes()) for spec, a in zip(specs, arrays)]
    return wire.decode(tree, rebuilt)


def test_values_round_trip_as_plain_data():
    value = (1.5, {"W1": np.arange(6.0).reshape(2, 3), "b1": np.float32(2.0)}, [None, True, 3])
    loss, grads, rest = round_trip(value)
    assert loss == 1.5 and rest == [None, True, 3]
    np.testing.assert_array_equal(grads["W1"], np.arange(6.0).reshape(2, 3))
    assert grads["b1"].shape == () and grads["b1"].dtype == np.float32


def test_objects_arrive_as_an_inert_description():
    class Sneaky:
        def __eq__(self, other):
            return True

    value = round_trip(Sneaky())
    assert isinstance(value, wire.Other) and value.type_name == "Sneaky"


@pytest.mark.parametrize(
    "spec, payload, reason",
    [
        ({"kind": "array", "ref": 0, "dtype": "|O", "shape": [1]}, b"\0" * 8, "not numeric"),
        ({"kind": "array", "ref": 0, "dtype": "<f8", "shape": [3]}, b"\0" * 8, "do not match"),
        ({"kind": "array", "ref": 0, "dtype": "no such dtype", "shape": [1]}, b"\0" * 8, "malformed"),
    ],
)
def test_forged_arrays_are_rejected(spec, payload, reason):
    with pytest.raises(wire.BadReply, match=reason):
        wire.array_from_bytes(spec, payload)


def test_deep_or_malformed_trees_are_rejected():
    tree = {"kind": "none"}
    for _ in range(wire.MAX_DEPTH + 5):
        tree = {"kind": "list", "items": [tree]}
    with pytest.raises(wire.BadReply):
        wire.decode(tree, [])
    with pytest.raises(wire.BadReply):
        wire.decode({"kind": "eval", "value": "__import__('os')"}, [])
    with pytest.raises(wire.BadReply):
        wire.loads(b"not json")


def test_oversized_frames_are_refused_before_reading_them():
    read, write = os.pipe()
    os.write(write, (wire.MAX_HEADER_BYTES + 1).to_bytes(8, "little"))
    with pytest.raises(wire.BadReply, match="limit"):
        wire.read_frame(read)
    os.close(read)
    os.close(write)


def test_a_silent_peer_times_out():
    read, write = os.pipe()
    import time

    with pytest.raises(wire.ChannelTimeout):
        wire.read_frame(read, deadline=time.monotonic() + 0.05)
    os.close(write)
    with pytest.raises(wire.ChannelClosed):
        wire.read_frame(read, deadline=time.monotonic() + 1)
    os.close(read)
