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


class _Ints(list):
    def __iter__(self):
        raise ValueError("no")


class _Items(dict):
    def items(self):
        raise ValueError("no")


class _Float(float):
    def __float__(self):
        raise ValueError("no")


class _Rows(list):
    pass


@pytest.mark.parametrize(
    "value, described",
    [
        (10**400, "int too large for a float"),
        (_Ints([1, 2]), "_Ints"),
        (_Items(a=1), "_Items"),
        ([np.zeros(2), _Ints([1])], None),  # the good half of a list survives
        ([0.0] * (wire.MAX_NODES + 1), f"structure of more than {wire.MAX_NODES} values"),
        ([np.zeros(1)] * (wire.MAX_NODES + 1), f"structure of more than {wire.MAX_NODES} values"),
    ],
    ids=["huge_int", "iter_raises", "items_raise", "half_readable", "too_many_values", "too_many_arrays"],
)
def test_encode_never_raises_and_what_it_sends_the_grader_reads(value, described):
    # Whatever a learner returns, the reply must decode: a value the child cannot send is the
    # learner's wrong type, never a crash of the sandbox's side (it used to end the process with 70).
    rebuilt = round_trip(value)
    if described is None:
        assert isinstance(rebuilt[0], np.ndarray) and isinstance(rebuilt[1], wire.Other)
    else:
        assert isinstance(rebuilt, wire.Other) and rebuilt.type_name == described


def test_subclasses_of_plain_types_arrive_as_their_plain_values():
    assert round_trip(_Float(2.5)) == 2.5 and type(round_trip(_Float(2.5))) is float
    assert round_trip(_Rows([1, 2])) == [1, 2]  # a list subclass's kind is "list", which decode reads


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
