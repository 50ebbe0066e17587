"""Per-student result files that make `grade batch` resumable.

OUTDIR/results/<student>.json holds the graded row and the key it was graded under:
the sha256 of the submission's bytes, the grader's version, the exercise and the
options that change verdicts. A rerun reuses a row whose key still matches and
regrades the rest. Every file is written to a temporary name and renamed over the
old one (os.replace is atomic), so an interrupted run leaves old or new files,
never half-written ones. No fsync: it costs milliseconds per file here, and a
file emptied by a power cut reads as missing, so it is simply regraded.
"""

import hashlib
import json
import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from .. import __version__
from ..checking.results import Report
from .names import file_stem


def write_atomic(path, text):
    path = Path(path)
    with ctrl_c_held():
        try:
            handle = _temporary(path)
        except FileNotFoundError:  # mkdir only when needed: a batch writes hundreds of files per directory
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = _temporary(path)
        try:
            with handle:
                handle.write(text)
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise


@contextmanager
def ctrl_c_held():
    """Hold a Ctrl-C that arrives inside the block until the block is done (no half-written files).

    Nested blocks hold it until the outermost one ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):  # Python's own handler raises KeyboardInterrupt; an outer block records it
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def _temporary(path):
    # Named by the start of the final name only: a name of 255 bytes leaves no room for more.
    return tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name[:32]}.", suffix=".tmp", delete=False
    )


def result_key(data, exercise_name, options):
    """What a stored row depends on: the content, the grader, the exercise, the grading options."""
    content = hashlib.sha256(data).hexdigest()
    settings = json.dumps({"grader": __version__, "exercise": exercise_name, "options": options}, sort_keys=True)
    return content + ":" + hashlib.sha256(settings.encode()).hexdigest()[:16]


class ResultStore:
    def __init__(self, outdir):
        self.directory = Path(outdir) / "results"

    def path(self, student):
        return self.directory / f"{file_stem(student)}.json"

    def load(self, student):
        """The stored record, or None when there is none or it cannot be read."""
        try:
            record = json.loads(self.path(student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and isinstance(record.get("row"), dict) else None

    def fresh_report(self, student, key):
        """The stored Report if it was graded under `key` (and reads as one), else None."""
        record = self.load(student)
        if not record or key is None or record.get("key") != key:
            return None
        try:
            return Report.from_dict(record["row"])
        except (KeyError, TypeError, ValueError):  # written by another version of the grader: regrade
            return None

    def save(self, student, key, source, report):
        """Store a Report; key None means "always regrade" (e.g. the worker died while grading it)."""
        record = {"student": student, "source": source, "key": key, "grader": __version__, "row": report.to_dict()}
        write_atomic(self.path(student), json.dumps(record, indent=1) + "\n")
