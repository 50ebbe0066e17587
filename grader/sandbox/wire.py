"""The data-only channel between the grader and the sandboxed child.

Values cross as a JSON tree plus raw array bytes: no pickle, so nothing the child
sends can run code or build objects in the grader. Everything read from the child
is bounded (size, depth, node count) and validated before use.

Frames on a pipe are an 8-byte little-endian length followed by that many bytes.
"""

import json
import math
import os
import re
import select
import struct
import time
from dataclasses import dataclass

import numpy as np

# Exit codes of the sandboxed process that are the grader's side failing, never the learner's own exit.
EXIT_PROTOCOL = 70  # the channel to the grader failed (garbage on it, or the grader went away)
EXIT_REPLY_MEMORY = 71  # out of memory while sending a result back, and not even that could be said

# What a sandboxed process may say of itself. Anything else (a status the grader gives, such as
# "killed" or "timeout") is an unreadable reply: the process cannot pass itself off as a victim.
STATUSES = frozenset(
    {
        "locked",
        "jail_failed",
        "ready",
        "import_error",
        "exited",
        "memory",
        "too_large",
        "ok",
        "not_implemented",
        "missing_function",
        "exception",
    }
)
MAX_HEADER_BYTES = 1 << 20
MAX_ARRAY_BYTES = 64 << 20  # total per reply; far above any exercise's results
MAX_DEPTH = 8
MAX_NODES = 10_000
_NUMERIC_KINDS = "biuf"
_DTYPE = re.compile(r"[<>|=]?[biuf][0-9]{1,2}")  # what encode writes: array.dtype.str of a numeric array
_MAX_NDIM = 32
_LENGTH = struct.Struct("<Q")


class ChannelClosed(Exception):
    """The other end closed the pipe (the child died or exited)."""


class ChannelTimeout(Exception):
    """No complete frame arrived before the deadline."""


class BadReply(Exception):
    """The child sent something that is not a well-formed reply."""


def write_frame(fd, payload, deadline=None):
    """Write one frame; on a non-blocking descriptor, wait for room until `deadline` (ChannelTimeout):
    a process that stops reading its requests cannot hold the grader."""
    data = _LENGTH.pack(len(payload)) + bytes(payload)
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            wait = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            if not poller.poll(wait):
                raise ChannelTimeout() from None
            continue
        view = view[written:]


def _read_exact(fd, n, deadline):
    """n bytes from `fd` (a descriptor, or an object with read_exact(n, deadline): portable.py's)."""
    if not isinstance(fd, int):
        return fd.read_exact(n, deadline)
    chunks, remaining = [], n
    if deadline is not None:  # select.poll exists on POSIX only: the child side reads without a deadline
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while remaining:
        if deadline is not None:
            wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            if not poller.poll(wait_ms):
                raise ChannelTimeout()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, deadline=None, max_bytes=MAX_HEADER_BYTES):
    (length,) = _LENGTH.unpack(_read_exact(fd, _LENGTH.size, deadline))
    if length > max_bytes:
        raise BadReply(f"a frame of {length} bytes (limit {max_bytes})")
    return _read_exact(fd, length, deadline)


def arrays_in(value, path=""):
    """(path, array) for each array in nested lists, tuples and dicts, in encode's order (for
    the grader's own inputs, whose dict keys are str); paths read like P[0] or params['W1']."""
    if isinstance(value, (np.ndarray, np.generic)):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from arrays_in(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from arrays_in(item, f"{path}[{key!r}]")


def encode(value):
    """Split a value into a JSON-able tree and the list of arrays it refers to.

    Anything that is not a number, array, str-keyed dict, list, tuple or None
    becomes an `other` node naming its type, so the grader can say what came back.
    Total on a learner's value: a part that cannot be read (an __iter__ or __float__
    that raises, an int no float holds) becomes an `other` node, and a tree of more
    nodes than decode reads becomes one `other` node, never an error of the sandbox.
    """
    arrays = []
    try:
        return _encode(value, 0, arrays, [MAX_NODES]), arrays
    except _TooManyNodes:
        return {"kind": "other", "type": f"structure of more than {MAX_NODES} values"}, []


class _TooManyNodes(Exception):
    pass


def _encode(value, depth, arrays, budget):
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooManyNodes()
    if depth > MAX_DEPTH:
        return {"kind": "other", "type": "structure nested too deeply"}
    mark = len(arrays)
    try:
        return _node(value, depth, arrays, budget)
    except (_TooManyNodes, MemoryError):
        raise
    except Exception:  # the learner's type misbehaved: say what it was, and drop its half-sent arrays
        del arrays[mark:]
        return {"kind": "other", "type": _type_name(value)}


def _node(value, depth, arrays, budget):
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        array = np.asarray(value)  # drops subclasses such as np.matrix
        if array.dtype.kind not in _NUMERIC_KINDS:
            return {"kind": "other", "type": f"array of dtype {array.dtype}"}
        arrays.append(array)
        return {"kind": "array", "ref": len(arrays) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, bool):
        return {"kind": "bool", "value": bool.__bool__(value)}
    if isinstance(value, float):
        return {"kind": "number", "value": float.__float__(value)}  # the value itself, not an overridden __float__
    if isinstance(value, int):
        number = int.__int__(value)
        if abs(number) >= 2**53:
            try:
                number = float(number)
            except OverflowError:
                return {"kind": "other", "type": "int too large for a float"}
        return {"kind": "number", "value": number}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, depth + 1, arrays, budget) for item in value]
        return {"kind": "tuple" if isinstance(value, tuple) else "list", "items": items}
    if isinstance(value, dict):
        pairs = list(value.items())
        if not all(isinstance(key, str) for key, _ in pairs):
            return {"kind": "other", "type": _type_name(value)}
        items = [[str.__str__(key), _encode(item, depth + 1, arrays, budget)] for key, item in pairs]
        return {"kind": "dict", "items": items}
    return {"kind": "other", "type": _type_name(value)}


def _type_name(value):
    name = type(value).__name__
    return name if type(name) is str else "object"


class Other:
    """Stands for a value the child returned that is not data (a str, a model object...)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<{self.type_name}>"


def decode(tree, arrays):
    """Rebuild a value from `encode`'s tree, validating every node (the tree is untrusted)."""
    budget = [MAX_NODES]

    def build(node, depth):
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH + 1 or not isinstance(node, dict):
            raise BadReply("malformed value tree")
        kind = node.get("kind")
        if kind == "array":
            ref = node.get("ref")
            if type(ref) is not int or not 0 <= ref < len(arrays):
                raise BadReply("array reference out of range")
            return arrays[ref]
        if kind in ("number", "bool"):
            value = node.get("value")
            if type(value) not in (int, float, bool):
                raise BadReply("malformed number")
            return value
        if kind == "none":
            return None
        if kind in ("list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise BadReply("malformed sequence")
            built = [build(item, depth + 1) for item in items]
            return tuple(built) if kind == "tuple" else built
        if kind == "dict":
            items = node.get("items")
            if not isinstance(items, list) or not all(
                isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in items
            ):
                raise BadReply("malformed dict")
            return {key: build(item, depth + 1) for key, item in items}
        if kind == "other":
            return Other(node.get("type", "unknown"))
        raise BadReply(f"unknown node kind {kind!r}")

    return build(tree, 0)


def array_from_bytes(spec, payload):
    """Build a float/int/bool array from a child's bytes, checking dtype, shape and size.

    The dtype must be a plain numeric type string such as "<f8" (what encode writes),
    never handed to numpy's full dtype parser; the shape's size is computed with
    Python ints, so a product that overflows int64 cannot wrap round to match.
    """
    dtype_name = spec.get("dtype") if isinstance(spec, dict) else None
    shape = spec.get("shape") if isinstance(spec, dict) else None
    if not isinstance(dtype_name, str) or not _DTYPE.fullmatch(dtype_name):
        raise BadReply(f"malformed array header: dtype {str(dtype_name)[:40]!r} is not numeric data")
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_NDIM
        or not all(type(n) is int and 0 <= n <= MAX_ARRAY_BYTES for n in shape)
    ):
        raise BadReply(f"malformed array header: shape {str(shape)[:40]}")
    try:
        dtype = np.dtype(dtype_name)
    except TypeError as error:  # a size numpy has no type for, e.g. "<f3"
        raise BadReply(f"malformed array header: {error}") from None
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject:
        raise BadReply(f"array of dtype {dtype} is not numeric data")
    if math.prod(shape) * dtype.itemsize != len(payload):
        raise BadReply("array bytes do not match its shape")
    return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()


def array_specs(tree):
    """The array nodes of a tree, in `ref` order (for reading their frames)."""
    found = {}

    def walk(node, depth):
        if depth > MAX_DEPTH + 1 or not isinstance(node, dict):
            return
        if node.get("kind") == "array" and type(node.get("ref")) is int:
            found[node["ref"]] = node
        for item in node.get("items", []) if isinstance(node.get("items"), list) else []:
            walk(item[1] if isinstance(item, list) and len(item) == 2 else item, depth + 1)

    walk(tree, 0)
    if sorted(found) != list(range(len(found))):
        raise BadReply("array references are not 0..n-1")
    return [found[i] for i in range(len(found))]


@dataclass(frozen=True)
class Reply:
    """One validated answer of the child: what it says happened, and the value it returned."""

    status: str
    value: object = None
    error: dict = None  # type, message, where, text: each a str of at most 300 characters, or None
    seconds: float = None
    cell_errors: tuple = ()  # records: cell (int or None), where, type, message
    detail: str = ""  # what it was doing when it ran out of memory
    jail: dict = None  # what the jail says took effect (its first reply only)


def read_reply(fd, deadline):
    """Read one reply from the child. Raises only ChannelTimeout, ChannelClosed or BadReply.

    Whatever the bytes are, nothing else escapes: the child is untrusted, and a reply
    it forged must end as an unreadable reply, never as an error of the grader.
    """
    try:
        header = loads(read_frame(fd, deadline))
        if not isinstance(header, dict) or not isinstance(header.get("status"), str):
            raise BadReply("reply is not a status object")
        if header["status"] not in STATUSES:
            raise BadReply(f"unknown status {header['status'][:40]!r}")
        count = header.get("arrays", 0)
        if type(count) is not int or not 0 <= count <= MAX_NODES:
            raise BadReply("bad array count")
        specs = array_specs(header.get("value")) if count else []
        if len(specs) != count:
            raise BadReply("array count does not match the value")
        arrays, budget = [], MAX_ARRAY_BYTES
        for spec in specs:
            payload = read_frame(fd, deadline, max_bytes=budget)
            budget -= len(payload)
            arrays.append(array_from_bytes(spec, payload))
        value = decode(header["value"], arrays) if "value" in header else None
        jail = header.get("jail")
        return Reply(
            header["status"][:40],
            value,
            _error_record(header.get("error")),
            _seconds(header.get("seconds")),
            _cell_errors(header.get("cell_errors")),
            _text(header.get("detail") or "", 300),
            _jail_record(jail) if isinstance(jail, dict) else None,
        )
    except (ChannelTimeout, ChannelClosed, BadReply):
        raise
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError, MemoryError) as error:
        raise BadReply(f"{type(error).__name__}") from None


def _seconds(value):
    """A duration the child measured: a finite number >= 0, else unknown (None)."""
    if type(value) not in (int, float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _jail_record(jail):
    """The jail's own report: plain numbers, booleans, short names and short reasons only."""
    record = {}
    for key, value in list(jail.items())[:20]:
        if not isinstance(key, str):
            continue
        if isinstance(value, (bool, int, float)) or value is None:
            record[key[:40]] = value
        elif isinstance(value, str):
            record[key[:40]] = value[:200]
        elif isinstance(value, list):
            record[key[:40]] = [str(item)[:40] for item in value[:10] if isinstance(item, str)]
    return record


def _error_record(error):
    if not isinstance(error, dict):
        return None
    return {
        key: (_text(error[key]) if error.get(key) is not None else None) for key in ("type", "message", "where", "text")
    }


def _cell_errors(records):
    """The notebook cells that raised while loading, as plain records."""
    if not isinstance(records, list):
        return ()
    clean = []
    for record in records[:20]:
        if not isinstance(record, dict):
            continue
        cell = record.get("cell")
        clean.append(
            {
                "cell": cell if type(cell) is int and cell > 0 else None,
                **{key: _text(record.get(key) or "") for key in ("where", "type", "message")},
            }
        )
    return tuple(clean)


def _text(value, limit=300):
    return value[:limit] if isinstance(value, str) else str(type(value).__name__)


def dumps(obj):
    return json.dumps(obj, allow_nan=True).encode()


def loads(payload):
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadReply(f"not JSON: {error}") from None
    except RecursionError:
        raise BadReply("not JSON: nested too deeply") from None
