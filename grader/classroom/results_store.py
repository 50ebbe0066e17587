"""Per-student result files that make `grade batch` resumable.

OUTDIR/results/<student>.json holds the graded row and the key it was graded under:
the sha256 of the submission's bytes, the grader's version, the exercise and the
options that change verdicts. A rerun reuses a row whose key still matches and
regrades the rest. A file that exists is replaced through a temporary file renamed
over it (os.replace is atomic), so an interrupted run leaves old or new files, never
half-written ones. On a first run (an empty store) files are created in place
(write_new), which halves the file system's work per row: a row is stored after its
feedback files, so a file cut short by a kill has no row and is written again by the
next run, and a row cut short is not JSON, so it reads as missing and is regraded.
No fsync: it costs milliseconds per file here, and a file emptied by a power cut
reads as missing, so it is simply regraded.
"""

import hashlib
import itertools
import json
import os
import signal
import threading
from contextlib import contextmanager, suppress
from pathlib import Path

from .. import __version__
from ..checking.results import Report
from .names import file_stem

_temporaries = itertools.count()
_held = [False]  # inside ctrl_c_held, on the main thread
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def write_atomic(path, text):
    """Write `text` (UTF-8) to `path` through a temporary file renamed over it.

    The temporary name is short and our own (this process, a counter), not derived from
    `path`: a learner's file name near the length limit still fits, and os.open is a
    fraction of tempfile's cost, which matters at hundreds of files a second.
    """
    with atomic_file(path) as handle:
        handle.write(text)


def write_new(path, text):
    """Write `text` (UTF-8) to `path`, created in place; a `path` that exists (or is a link) is
    replaced by write_atomic instead. For callers that never trust a file cut short (see above)."""
    data = text.encode("utf-8")
    with ctrl_c_held():
        try:
            fd = os.open(path, _CREATE, 0o600)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            return write_new(path, text)
        except OSError:  # it exists, or is a link (O_NOFOLLOW): replaced whole
            return write_atomic(path, text)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


@contextmanager
def atomic_file(path):
    """A text file (UTF-8, no newline translation) to write in the block, renamed over `path` at its end;
    on an error, removed. Ctrl-C waits for the block: a file written row by row (grades.csv) holds no
    more than the rows it streams."""
    path = os.fspath(path)
    with ctrl_c_held():
        temporary, fd = _temporary(os.path.dirname(path))
        try:
            with open(fd, "w", encoding="utf-8", newline="") as handle:
                yield handle
            os.replace(temporary, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise


def _temporary(folder):
    """(name, descriptor) of a new file in `folder`, readable by its owner only, as tempfile makes them."""
    while True:
        temporary = os.path.join(folder, f".grade-{os.getpid()}-{next(_temporaries)}.tmp")
        try:
            return temporary, os.open(temporary, _CREATE, 0o600)
        except FileNotFoundError:  # mkdir only when needed: a batch writes thousands of files per directory
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:  # left by a killed run whose process had our pid: take the next name
            pass


@contextmanager
def ctrl_c_held():
    """Hold a Ctrl-C that arrives inside the block until the block is done (no half-written files).

    Nested blocks hold it until the outermost one ends.
    """
    if _held[0] or threading.current_thread() is not threading.main_thread():
        yield  # an outer block holds it (a batch of rows holds it once, not at each of their files)
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    _held[0] = True
    try:
        yield
    finally:
        _held[0] = False
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):  # Python's own handler raises KeyboardInterrupt; an outer block records it
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def result_key(data, exercise_name, options, digest=None):
    """What a stored row depends on: the content, the grader, the exercise, the grading options.

    `digest`: the sha256 of `data` when the caller has it already (it is hashed once per submission).
    """
    content = (digest or hashlib.sha256(data).digest()).hex()
    settings = json.dumps({"grader": __version__, "exercise": exercise_name, "options": options}, sort_keys=True)
    return content + ":" + hashlib.sha256(settings.encode()).hexdigest()[:16]


class ResultStore:
    def __init__(self, outdir):
        self.directory = Path(outdir) / "results"
        self._directory = str(self.directory)
        try:  # a first run has no row to reuse: no student's file is looked for
            self.empty = not any(os.scandir(self.directory))
        except OSError:
            self.empty = True

    def file(self, student):
        return os.path.join(self._directory, file_stem(student) + ".json")  # a string: pathlib costs more than a write

    def load(self, student):
        """The stored record, or None when there is none or it cannot be read."""
        try:
            with open(self.file(student), encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and isinstance(record.get("row"), dict) else None

    def fresh_report(self, student, key):
        """The stored Report if it was graded under `key` (and reads as one), else None."""
        record = None if self.empty else self.load(student)
        if not record or key is None or record.get("key") != key:
            return None
        try:
            return Report.from_dict(record["row"])
        except (KeyError, TypeError, ValueError):  # written by another version of the grader: regrade
            return None

    def save(self, student, key, source, report=None, row=None, row_json=None):
        """Store a row: a Report, or its to_dict() (`row`), or that dict's JSON text (`row_json`, made
        on the worker); key None means "always regrade" (e.g. the worker died while grading it)."""
        if row_json is None:
            row_json = json.dumps(row if row is not None else report.to_dict(), separators=(",", ":"))
        head = {"student": student, "source": source, "key": key, "grader": __version__}
        # One line, no indentation (json's C encoder); the row's text is put in as it came.
        text = json.dumps(head, separators=(",", ":"))[:-1] + ',"row":' + row_json + "}\n"
        (write_new if self.empty else write_atomic)(self.file(student), text)
