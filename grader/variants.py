"""Per-student variants: each student's inputs come from a seed only the instructor can compute.

The seed of student S is HMAC-SHA256(secret, S) (its first 8 bytes), the secret a course's
own, read from a file (--secret-file, c.GradeTasks.secret_file) or the GRADE_SECRET
environment variable, never from the class's folder. The grader mixes it with --seed
(grading.seeded_cases): two students get different arrays and sizes, so relaying one's
results to another fails, and the instructor reproduces any student's inputs from the
secret and the id. Without a secret every student gets the public inputs of --seed.
"""

import hashlib
import hmac
import os
from pathlib import Path

from .reading.submission import UsageError

SECRET_ENV = "GRADE_SECRET"
MIN_SECRET_BYTES = 16
MAKE_ONE = "python -c 'import secrets; print(secrets.token_hex(32))' > FILE"


def student_seed(secret, student):
    """The variant of STUDENT (their id as the grader knows it) under SECRET (bytes): a 64-bit int."""
    digest = hmac.new(secret, str(student).encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def read_secret(path=None, class_dir=None, environ=None):
    """The course secret (bytes) from PATH, else from $GRADE_SECRET, else None.

    A secret file inside CLASS_DIR (the students' folder) is refused: whoever can write
    there could choose it. Surrounding whitespace (a trailing newline) is not part of it.
    """
    if path is not None:
        path = Path(path)
        if class_dir is not None and _inside(path, Path(class_dir)):
            raise UsageError(f"the secret file {path} is inside the class directory {class_dir}: keep it elsewhere")
        try:
            secret = path.read_bytes().strip()
        except OSError as error:
            raise UsageError(f"cannot read the secret file {path}: {error.strerror or error}") from None
        where = str(path)
        try:
            secret.decode("utf-8")  # text, so that $GRADE_SECRET and Gradescope's grade.json can carry it
        except UnicodeDecodeError:
            raise UsageError(f"the secret file {path} is not text (UTF-8): make one with {MAKE_ONE}") from None
    else:
        text = (os.environ if environ is None else environ).get(SECRET_ENV)
        if text is None:
            return None
        secret, where = text.strip().encode("utf-8"), f"${SECRET_ENV}"
    if len(secret) < MIN_SECRET_BYTES:
        raise UsageError(
            f"the secret in {where} is {len(secret)} bytes, fewer than {MIN_SECRET_BYTES}: make one with {MAKE_ONE}"
        )
    return secret


def _inside(path, directory):
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True
