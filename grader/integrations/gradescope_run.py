"""What an autograder zip from `grade gradescope` runs in Gradescope's container, once per submission:
`python -m grader.integrations.gradescope_run ROOT` (called by the zip's run_autograder).

Gradescope's layout under ROOT (/autograder): source/ holds the zip's files, with the settings
grade.json; submission/ the student's files under the names they uploaded; submission_metadata.json
who sent them; results/results.json is what Gradescope shows. This module always writes that file:
the grade `grade check` gives, or a score of 0 with a message saying why there is none (no file or
several files submitted, or the grader itself failed). What it prints goes to Gradescope's
results/stdout (instructors only, unless stdout_visibility says otherwise): never the seed there,
nor the course secret, which reaches `grade check` through its environment ($GRADE_SECRET): the
sandbox's process starts from an environment of its own and cannot read /proc or /autograder.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from ..sandbox.layout import CANNOT_START
from ..shown import escaped_name  # file names that are not UTF-8, control and bidi characters, shown escaped

SETTINGS = "grade.json"
# variants.SECRET_ENV, named here: of the grader this module imports only a constant (sandbox.layout's),
# never the command (cli), which imports it through the zip's writer.
SECRET_ENV = "GRADE_SECRET"
SUFFIXES = (".py", ".ipynb")
# What editors and archivers leave beside a submission; never the student's answer.
_IGNORED_PARTS = ("__MACOSX", "__pycache__")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else os.environ.get("GRADESCOPE_ROOT", "/autograder"))
    settings = {}
    try:
        settings = read_settings(root / "source" / SETTINGS)
        results = grade(root, settings)
    except Exception as error:  # the grader's own failure still ends in a results.json
        print(f"gradescope_run: {type(error).__name__}: {error}")
        results = autograder_failed(f"{type(error).__name__}: {error}")
    write_results(root / "results" / "results.json", with_visibility(results, settings))


def read_settings(path):
    settings = json.loads(path.read_text())
    missing = {"exercise", "timeout", "memory_mb", "seed", "time_limit"} - set(settings)
    if missing:
        raise ValueError(f"{path.name} lacks {', '.join(sorted(missing))}")
    return settings


def grade(root, settings):
    """results.json's content for the submission under ROOT/submission."""
    exercise = settings["exercise"]
    found = find_submissions(root / "submission")
    if len(found) != 1:
        return wrong_file_count(root / "submission", found, exercise)
    path = found[0]
    if path.is_symlink():
        # Never followed: grade check runs as root, so a link would have it read, run and quote
        # (a syntax error shows its line) any file, /autograder/source/grade.json included.
        message = (
            f"{escaped_name(path.relative_to(root / 'submission'))} is a symbolic link: upload the file itself, "
            "not a link to it, and submit again."
        )
        print(message)
        return _zero("Submission", message)
    course = root / "source" / settings["course"] if settings.get("course") else None
    student = student_id(root / "submission_metadata.json")
    command = check_command(path, settings, student, course)
    print(f"grading {escaped_name(path.relative_to(root / 'submission'))} as {exercise}")
    if settings.get("secret") and student is None:  # a try-out without Gradescope's file: said, not silent
        print(
            "no student id: submission_metadata.json is missing or holds no user id, so this submission is "
            "graded on the public inputs of the zip's seed, not on a student's own"
        )
    env = {key: value for key, value in os.environ.items() if key != SECRET_ENV}
    if settings.get("secret"):
        env[SECRET_ENV] = settings["secret"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=settings["time_limit"], cwd=root, env=env
        )
    except subprocess.TimeoutExpired:
        print(f"grade check ran longer than {settings['time_limit']} s and was stopped")
        return autograder_failed(f"grading took longer than {settings['time_limit']:g} s")
    print(f"grade check exited with {done.returncode}")
    if done.stderr:
        print(done.stderr, end="")
    if done.returncode in (0, 1):  # 1 is a grade below full marks, not a failure
        return json.loads(done.stdout)
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
    if done.returncode == 2 and last.startswith(f"grade: {CANNOT_START}"):
        return sandbox_failed(last)
    return autograder_failed(last)


def find_submissions(directory):
    """Every .py and .ipynb file under DIRECTORY, at any depth, whatever its name, except hidden
    files and folders (.ipynb_checkpoints/, ._name from macOS) and __MACOSX/, __pycache__/. A symbolic
    link so named is listed (to be refused); linked folders are not entered (rglob follows no link)."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if any(part.startswith(".") or part in _IGNORED_PARTS for part in parts):
            continue
        if path.suffix in SUFFIXES and (path.is_symlink() or path.is_file()):
            found.append(path)
    return found


def check_command(path, settings, student=None, course=None):
    """`grade check` of PATH under the zip's settings, printing Gradescope's format. The exercise is
    always given: Gradescope keeps the student's file name ("hw2 (1).py")."""
    command = [
        sys.executable,
        "-m",
        "grader",
        "check",
        str(path),
        "--exercise",
        settings["exercise"],
        "--format",
        "gradescope",
        "--seed",
        str(settings["seed"]),
        "--timeout",
        str(settings["timeout"]),
        "--memory",
        str(settings["memory_mb"]),
    ]
    if student is not None:
        command += ["--student", student]
    if course is not None:  # the exercise comes from the course's spec files in the zip
        command += ["--course", str(course)]
    if settings.get("trust_submissions"):  # the instructor accepts a jail without every layer
        command.append("--trust-submissions")
    return command


def student_id(metadata_path):
    """The submitter's Gradescope user id from submission_metadata.json (the first user of a group),
    or None when the file or the id is missing."""
    try:
        users = json.loads(metadata_path.read_text()).get("users") or []
        return str(users[0]["id"])
    except (OSError, ValueError, AttributeError, LookupError, TypeError):
        return None


def wrong_file_count(directory, found, exercise):
    wanted = f"Upload exactly one file, your {exercise}.py or {exercise}.ipynb (any name), and submit again."
    if not found:
        others = (
            sorted(escaped_name(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())
            if directory.is_dir()
            else []
        )
        held = f" (it holds {_listing(others)})" if others else ""
        message = f"No .py or .ipynb file was found in your submission{held}. {wanted}"
    else:
        names = [escaped_name(path.relative_to(directory)) for path in found]
        message = (
            f"Your submission holds {len(found)} .py or .ipynb files ({_listing(names)}): "
            f"the grader cannot tell which one to grade. {wanted}"
        )
    print(message)
    return _zero("Submission", message)


def _listing(names, shown=5):
    listed = ", ".join(names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def autograder_failed(reason):
    message = (
        "The autograder failed, so this submission has no grade yet. This is not a problem "
        "with your file: please tell your instructor."
    )
    return _zero("Autograder", f"{message}\nThe grader said: {reason}")


def sandbox_failed(said):
    """The jail could not start in this container although setup.sh's `grade doctor` passed: every
    submission fails alike, so say it is the environment's, for the instructor to act on."""
    message = (
        "The autograder could not grade this submission: Gradescope's environment could not start the "
        "grader's sandbox. This is not a problem with your file: please tell your instructor."
    )
    instructor = (
        "For the instructor: the autograder's environment could not start the sandbox, so no submission can be "
        "graded until it can: rebuild the autograder (setup.sh runs `grade doctor` in the image) and see "
        "'Supported Pythons' in the grader's docs/developing.md."
    )
    return _zero("Autograder", f"{message}\n{instructor}\nThe grader said: {said}")


def _zero(name, message):
    """Score 0 with one failed test always shown to the student, whatever the tests' visibility."""
    first = message.split("\n")[0]
    return {
        "score": 0,
        "output": first,
        "tests": [{"name": name, "status": "failed", "visibility": "visible", "output": message}],
    }


def with_visibility(results, settings):
    """The zip's visibility settings on RESULTS (a test's own visibility still wins)."""
    for key in ("visibility", "stdout_visibility"):
        if settings.get(key):
            results[key] = settings[key]
    return results


def write_results(path, results):
    """Write atomically: Gradescope must never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(partial, path)


if __name__ == "__main__":
    main()
