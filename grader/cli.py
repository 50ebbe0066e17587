"""The `grade` command: parse options, call the grader, print, exit.

Exit codes: 0 full marks, 1 graded below full marks, 2 usage error (one line on
stderr, no traceback), 3 an internal error of the grader itself (one line too).
"""

import sys
import time
from pathlib import Path

import click

from . import DISTRIBUTION, defaults
from .reading.submission import UsageError, require_submission_path
from .sandbox.errors import JailError, SettingError
from .shown import escaped

EXIT_USAGE = 2
EXIT_INTERNAL = 3
# Gradescope's visibility settings, for results and for the autograder's log.
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


def trust_option(command):
    return click.option(
        "--trust-submissions",
        "trust",
        is_flag=True,
        help="Grade even when this machine's sandbox lacks a layer (see grade doctor).",
    )(command)


def require_jail(trust, start_anyway=False):
    """Others' code is graded only in a complete jail, unless the instructor says to trust it.
    START_ANYWAY: start a jail even when trusted, so that one that cannot start stops the command
    here (JailError: exit 2, one line) rather than in every submission's row."""
    if trust and not start_anyway:
        return
    from .sandbox import layers

    found = layers.probe()[0]
    reason = None if trust else layers.refusal(found)
    if reason:
        raise UsageError(reason)


def grading_options(command):
    """--timeout, --seed and --memory: what `check` and `batch` grade under, the same for both."""
    command = _memory_option(command)
    command = click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=defaults.SEED,
        show_default=True,
        help="Seed of the grader's random inputs: 0 gives the public ones students see (train's public "
        "spiral among them); any other, or a course secret, also draws train's spiral.",
    )(command)
    return _timeout_option(command)


def course_option(command):
    return click.option(
        "--course",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Course directory: its specs/ hold exercises beside the built-in ones, its solutions/ and "
        "exercises/ their solutions and stubs  [default: found from a grade.toml, or a pyproject.toml "
        "with [tool.grade], here or above]",
    )(command)


def use_course(course):
    """The Registry of this command: the built-in exercises, the course's and installed packages'."""
    from . import exercises
    from .exercises.registry import Course

    return exercises.use(Course.at(course) if course is not None else None)


_secret_option = click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the course secret, from which each student's inputs are derived "
    "[default: $GRADE_SECRET; without either, every student gets the public inputs of --seed]",
)


_memory_option = click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(min=64),
    default=defaults.MEMORY_MB,
    show_default=True,
    help="Memory cap of each submission's process, MiB.",
)
_timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=defaults.TIMEOUT,
    show_default=True,
    help="Seconds each task may run, all its calls together; train is not bound by it: each of its "
    "calls (a training run) gets 60 s.",
)


_known_option = click.option(
    "--known",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A folder of known solutions (.py, .ipynb, searched recursively: public ones, last year's class) "
    "that report.html compares each submission against.",
)
_no_similarity_option = click.option(
    "--no-similarity", is_flag=True, help="Do not compare the submissions' code in report.html."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION, message=f"grade %(version)s ({DISTRIBUTION})")
def cli():
    """Gradient-checking autograder for backpropagation exercises in numpy."""


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--exercise", "-e", help="Exercise name (default: the file name's stem).")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "gradescope"]),
    default=None,
    help="Output format (--json is --format json).",
)
@grading_options
@click.option(
    "--verbose", "-v", is_flag=True, help="Also show what the submission printed (grade doctor shows the sandbox)."
)
@trust_option
@course_option
@click.option(
    "--student",
    metavar="ID",
    help="Grade on this student's inputs, as grade batch, GradeTasks and Gradescope do with the course "
    "secret (--secret-file or $GRADE_SECRET; without one, the public inputs).",
)
@_secret_option
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a PNG of the decision regions learned by `train` (two_layer, n_layer).",
)
def check(
    path, exercise, as_json, fmt, timeout, seed, memory_mb, verbose, plot_path, trust, course, student, secret_file
):
    """Grade one submission (.py or .ipynb) and print a score per task."""
    from . import report
    from .checking.grading import grade_file

    require_submission_path(path)
    spec = _exercise_of(use_course(course), exercise, path)
    if fmt == "gradescope":  # an autograder grading a student's upload: others' code
        require_jail(trust)
    variant = _student_variant(student, secret_file)
    result = grade_file(path, spec, timeout=timeout, seed=seed, memory_mb=memory_mb, variant=variant)
    fmt = "json" if as_json else (fmt or "text")
    if fmt == "json":
        click.echo(report.render_json(result, verbose=verbose))
    elif fmt == "gradescope":
        click.echo(report.render_gradescope(result))
    else:
        report.print_text(result, sys.stdout, verbose=verbose)
        _print_missing_layers(result.sandbox)
    if plot_path is not None:
        _plot(result, plot_path)
    sys.exit(0 if result.full_marks else 1)


def _exercise_of(registry, exercise, path):
    """The Exercise named by -e, else by PATH's name; a name taken from the file name says so when unknown."""
    if exercise is not None or path.stem in registry.names():
        return registry.load(exercise or path.stem)
    close = registry.close_to(path.stem)
    fix = f"grade check {path.name} -e {close}" if close else f"grade check {path.name} -e EXERCISE"
    raise UsageError(
        f"unknown exercise {path.stem!r} (taken from the file name {path.name}): name it with -e, "
        f"e.g. `{fix}`; known exercises: {', '.join(registry.names())}"
    )


def _student_variant(student, secret_file):
    """The variant (seed) of STUDENT's inputs under the course secret; None: the public inputs."""
    from . import variants

    if student is None:
        if secret_file is not None:
            raise UsageError("--secret-file needs --student ID: the student whose inputs to grade on")
        return None
    secret = variants.read_secret(secret_file)
    if secret is None:  # a student checking their own work: the inputs everyone can see
        # Not the seed's value: in an autograder this line reaches a log that may be shown to students.
        click.echo(
            f"grade: no course secret (--secret-file or ${variants.SECRET_ENV}): graded on the public inputs "
            f"of --seed, not {student}'s",
            err=True,
        )
        return None
    return variants.student_seed(secret, student)


def _plot(result, path):
    """Draw what `train` learned; a note on stderr (stdout may be JSON) when there is nothing to draw."""
    boundary = result.artifacts.get("boundary")
    if boundary is None:
        click.echo(
            f"grade: no picture written: {result.exercise} has no train task, or train returned "
            "no usable params (see its message)",
            err=True,
        )
        return
    from .boundary import save_png

    try:
        save_png(boundary, path)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
    click.echo(f"wrote {path} (training accuracy {boundary.accuracy:.1%})", err=True)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--exercise", "-e", required=True, help="Exercise name, e.g. softmax.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions graded at once  [default: the number of CPUs]",
)
@click.option(
    "--out",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grades"),
    show_default=True,
    help="Where grades.csv, feedback/, gradescope/ and the summary go.",
)
@click.option("--assignment", help="nbgrader layout: the assignment directory to grade (default: any).")
@grading_options
@trust_option
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help='Grade on a Dask cluster: its scheduler (tcp://host:8786), or "local" for a '
    'LocalCluster of -j workers. Needs the dask extra: pip install -e ".[dask]".',
)
@course_option
@_secret_option
@_known_option
@_no_similarity_option
def batch(
    directory,
    exercise,
    jobs,
    outdir,
    assignment,
    timeout,
    seed,
    memory_mb,
    trust,
    scheduler,
    course,
    secret_file,
    known,
    no_similarity,
):
    """Grade every submission in DIRECTORY (<student>.py/.ipynb, or nbgrader's submitted/)."""
    import os

    from . import variants
    from .classroom import batch as batching

    registry = use_course(course)
    secret = variants.read_secret(secret_file, class_dir=directory)
    spec = registry.load(exercise)
    items = batching.discover(directory, spec.name, assignment)
    batching.require_writable(outdir)
    if not scheduler:  # on a cluster, each worker's machine has its own jail: checked there
        require_jail(trust, start_anyway=True)
    options = {"timeout": timeout, "seed": seed, "memory_mb": memory_mb}
    report_options = _class_report(registry, spec, directory, known, no_similarity)  # checked before grading
    jobs = jobs or os.cpu_count() or 1
    progress = _BatchProgress() if sys.stdout.isatty() else None
    pool = None
    if scheduler:  # only then is Dask imported
        from functools import partial

        from .classroom.dask_pool import DaskPool

        pool = partial(DaskPool, scheduler=scheduler)
    outcome = batching.run(
        items,
        spec,
        outdir,
        options,
        jobs,
        progress=progress,
        pool=pool,
        shipped=registry.shippable(spec.name),
        secret=secret,
    )
    if progress:
        progress.stop()
    inputs = "per-student" if secret is not None else f"public seed {seed}"
    click.echo(
        batching.write_summary(outdir, outcome.reports, spec, outcome.identical, outcome.missing, inputs), nl=False
    )
    from .classroom import class_report

    class_report.write_report(
        outdir, outcome.reports, spec, items, outcome.missing, outcome.interrupted, **report_options
    )
    if outcome.interrupted:
        # Every finished row is stored (atomically), and grades.csv and the summary hold them: exit 130.
        click.echo(
            f"grade: interrupted; {len(outcome.missing)} of {len(items)} submissions not graded yet: "
            f"{outdir}/grades.csv and the summary cover the {len(outcome.reports)} finished, "
            f"rerun to grade the rest",
            err=True,
        )
        sys.exit(130)
    click.echo(
        f"graded {len(outcome.graded)}, reused {len(outcome.reused)} unchanged since the last run "
        f"({_where(scheduler, jobs)}); wrote {outdir}/grades.csv, feedback/, gradescope/, results/, "
        f"summary.txt, summary.json, summary.png, report.html{'' if no_similarity else ', similarity.csv'}"
    )
    rate = _rate_line(outcome)
    if rate:
        click.echo(rate)
    failed = [student for student, result in outcome.reports.items() if result.grader_failure]
    if failed:  # every other row is written; these are graded again on the next run
        from .shown import escaped_name

        named = ", ".join(escaped_name(student) for student in failed[:5]) + (" ..." if len(failed) > 5 else "")
        click.echo(
            f"grade: {len(failed)} of {len(items)} submissions not graded, the grader failed on them ({named}): "
            "their rows say why; rerun to grade them",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


def _class_report(registry, spec, class_dir, known, no_similarity):
    """The options of report.html (classroom.class_report.write_report)."""
    from .classroom.class_report import find_stub

    if known is not None and not known.is_dir():
        raise UsageError(f"--known {known}: not a directory")
    course = registry.course.root if registry.course else None
    return {"known": known, "similar": not no_similarity, "stub": find_stub(spec.name, class_dir, course)}


@cli.command()
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--exercise", "-e", help="The exercise the folder was graded for  [default: the one its results name]")
@click.option(
    "--class-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The graded class's folder, where an nbgrader release/ notebook is the stub.",
)
@course_option
@_known_option
@_no_similarity_option
def report(outdir, exercise, class_dir, course, known, no_similarity):
    """Rebuild OUTDIR/report.html (and similarity.csv) from a finished `grade batch` folder, without grading."""
    from .classroom import class_report

    registry = use_course(course)
    spec = registry.load(exercise or class_report.stored_exercise(outdir))
    reports, items = class_report.stored_class(outdir, spec)
    options = _class_report(registry, spec, class_dir, known, no_similarity)
    data = class_report.write_report(outdir, reports, spec, items, **options)
    pairs = len(data["similarity"]["pairs"]) if data["similarity"] else 0
    click.echo(
        f"wrote {outdir}/report.html ({len(reports)} students, {len(data['help'])} who may need help"
        + (", no similarity)" if no_similarity else f", {pairs} similar pairs; similarity.csv)")
    )


def _where(scheduler, jobs):
    if scheduler == "local":
        return f"on a local Dask cluster of {jobs} workers"
    return f"on Dask {scheduler}" if scheduler else f"-j {jobs}"


class _BatchProgress:
    """A rich progress bar with the rate and the time left, redrawn by the main thread (at most ten times a second).

    No auto-refresh thread: batch workers are forked from this process, and a fork
    must not copy a lock (stdout's) that another thread might hold. The rate counts the
    submissions graded in this run, not the reused ones.
    """

    def __init__(self):
        self._bar = self._task = None
        self._graded, self._drawn = 0, 0.0

    def start(self, total):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            "grading",
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[left]}"),
            transient=True,
            auto_refresh=False,
        )
        self._task = self._bar.add_task("grading", total=total, rate="", left="")
        self._started = time.monotonic()
        self._bar.start()
        self._bar.refresh()

    def advance(self, count=1, graded=True):
        if not self._bar:
            return
        self._graded += count if graded else 0
        self._bar.advance(self._task, count)
        now = time.monotonic()
        if now - self._drawn < 0.1:
            return
        self._drawn = now
        task = self._bar.tasks[0]
        rate = self._graded / max(now - self._started, 1e-9)
        left = (task.total - task.completed) / rate if rate else None
        self._bar.update(
            self._task,
            rate=f"{rate:.1f} submissions/s" if self._graded else "",
            left=f"{_duration(left)} left" if left is not None else "",
        )
        self._bar.refresh()

    def stop(self):
        if self._bar:
            self._bar.stop()


def _duration(seconds):
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}"


def _rate_line(outcome):
    """The rate achieved, and the cluster size it implies for 100,000 submissions in 10 minutes
    (benchmarks/dask_throughput.py's estimate: each worker costs workers / rate seconds per submission)."""
    import math

    count = len(outcome.graded) - len(outcome.unread)
    if count < 1 or outcome.seconds <= 0 or outcome.workers < 1:
        return None
    rate = count / outcome.seconds
    needed = _TARGET_COUNT / _TARGET_SECONDS * outcome.workers / rate
    workers = math.ceil(needed)
    return (
        f"rate: {rate:.1f} submissions/s on {outcome.workers} worker{'s' if outcome.workers != 1 else ''} "
        f"({count} graded in {outcome.seconds:.1f} s); {_TARGET_COUNT:,} in {_TARGET_SECONDS // 60} minutes at that "
        f"rate would need about {workers} single-thread workers, {math.ceil(workers * 1.25)} with 25% for "
        f"stragglers and restarts"
    )


_TARGET_COUNT, _TARGET_SECONDS = 100_000, 600


@cli.command()
def doctor():
    """Show each layer of the sandbox and whether it is active on this machine."""
    from .sandbox import backend, layers, layout
    from .sandbox.errors import JailError

    try:
        found, _ = layers.probe()
    except JailError:
        for line in layout.lines(backend()):  # what the jail was to hold, then main's one line on why
            click.echo(line)
        raise
    click.echo(f"grade doctor: the sandbox on this machine ({layers.machine()})")
    _print_layers({"backend": backend(), "layers": [vars(layer) for layer in found]})
    for line in layout.lines(backend()):
        click.echo(line)
    missing = layers.missing_for_others(found)
    if missing:
        click.echo(
            f"grading others' code is refused here (missing: {', '.join(missing)}) unless {layers.TRUST_FLAG} is given"
        )
    else:
        click.echo("every layer needed to grade others' code is active")
    sys.exit(1 if missing else 0)


def _print_missing_layers(sandbox):
    """Only the layers this machine lacks: a student need not read the rest (grade doctor shows all)."""
    missing = [layer for layer in (sandbox or {}).get("layers") or [] if not layer["active"]]
    if missing:
        click.echo("  sandbox layers missing on this machine (fine for your own code; grade doctor says more):")
        for layer in missing:
            click.echo(f"  {layer['name']:<10} MISSING  {layer['how']}")


def _print_layers(sandbox):
    click.echo(f"  sandbox: {sandbox.get('backend', '?')} backend")
    for layer in sandbox.get("layers") or []:
        click.echo(f"  {layer['name']:<10} {'active ' if layer['active'] else 'MISSING'}  {layer['how']}")


@cli.command()
@click.option("--exercise", "-e", required=True, help="Exercise name, e.g. softmax.")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("autograder.zip"),
    show_default=True,
    help="The zip to upload to Gradescope.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Private seed of the grader's inputs  [default: a new random one of 128 bits, printed once]",
)
@_timeout_option
@_memory_option
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=540.0,
    show_default=True,
    help="Seconds the whole grading may take before results.json says it failed; keep it under "
    "the assignment's autograder timeout (Gradescope's default: 600).",
)
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When students see the per-task results.",
)
@click.option(
    "--stdout-visibility",
    type=click.Choice(VISIBILITIES),
    default="hidden",
    show_default=True,
    help="When students see the autograder's log (which file was graded, the grader's errors).",
)
@click.option(
    "--wheel",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The grader's wheel to put in the zip  [default: built from this checkout]",
)
@click.option(
    "--trust-submissions",
    "trust",
    is_flag=True,
    help="Grade even where Gradescope's container lacks a layer of the sandbox (its log says which).",
)
@course_option
@_secret_option
def gradescope(
    exercise,
    out,
    seed,
    timeout,
    memory_mb,
    time_limit,
    visibility,
    stdout_visibility,
    wheel,
    trust,
    course,
    secret_file,
):
    """Write a Gradescope autograder zip (setup.sh, run_autograder, the grader's wheel) for EXERCISE."""
    from . import variants
    from .exercises.registry import Shipped
    from .integrations import gradescope as zipper

    registry = use_course(course)
    spec = registry.load(exercise)
    if registry.origin(spec.name)[0] == "package":
        raise UsageError(
            f"{spec.name} comes from an installed package, which Gradescope's container does not have: "
            "put its spec in a course's specs/ (--course)"
        )
    shipped = registry.shippable(spec.name)
    course_files = shipped.files if isinstance(shipped, Shipped) else ()
    secret = variants.read_secret(secret_file)
    private = seed is None
    seed = zipper.private_seed() if private else seed
    settings = zipper.Settings(
        exercise=spec.name,
        timeout=timeout,
        memory_mb=memory_mb,
        seed=seed,
        time_limit=time_limit,
        visibility=visibility,
        stdout_visibility=stdout_visibility,
        trust_submissions=trust,
        course=zipper.COURSE if course_files else None,
        secret=secret.decode("utf-8") if secret is not None else None,
    )
    wheel_name = zipper.write_zip(out, settings, wheel, course_files)
    click.echo(
        f"wrote {out}: {spec.name} ({spec.max_score:g} points), {wheel_name}, {timeout:g} s per task, "
        f"{memory_mb} MiB, results {visibility}, log {stdout_visibility}"
    )
    origin = "a new private seed" if private else "seed"
    if secret is None:
        click.echo(
            f"{origin} {seed}: `grade check FILE -e {spec.name} --seed {seed}` gives a student's score; "
            f"keep it out of the students' sight (no course secret: every student gets the same inputs)"
        )
    else:
        click.echo(
            f"{origin} {seed}, each student's own inputs from the course secret: `grade check FILE -e {spec.name} "
            f"--seed {seed} --student ID --secret-file SECRET` (ID: the Gradescope user id) gives a student's score"
        )


@cli.command(name="list")
@course_option
def list_exercises(course):
    """Show the exercises, their tasks and points."""
    registry = use_course(course)
    for spec in registry.all():
        kind, where = registry.origin(spec.name)
        source = {"built-in": "", "course": f"  [{where}]", "package": f"  [entry point {getattr(where, 'value', '')}]"}
        click.echo(f"{spec.name}: {spec.title} ({spec.max_score:g} points){source[kind]}")
        for task in spec.tasks:
            parts = f" ({', '.join(f'{part.name} {part.points:g}' for part in task.parts)})" if task.parts else ""
            click.echo(f"  {task.signature}  {task.points:g} point{'s' if task.points != 1 else ''}{parts}")


@cli.command()
@click.argument("exercise")
@click.option("--notebook", is_flag=True, help="A notebook with a feedback cell under each function, not a .py file.")
@course_option
def init(exercise, notebook, course):
    """Write EXERCISE's stub (EXERCISE.py, or EXERCISE.ipynb) into the current folder, to fill in."""
    from .starter import write_start

    registry = use_course(course)
    target = write_start(registry.load(exercise), registry, notebook=notebook)
    then = "run each feedback cell" if notebook else f"run: grade check {target.name}"
    click.echo(f"wrote {target.name}: fill in each raise NotImplementedError, then {then}")


@cli.command()
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project root holding solutions/ and exercises/  [default: the course directory, else .]",
)
@click.option("--check", "check_only", is_flag=True, help="Only report stubs that differ from their solution.")
@course_option
def stubs(root, check_only, course):
    """Regenerate exercises/*.py from solutions/*.py."""
    from . import stubs as stub_maker
    from .exercises.registry import Course, find_course

    if root is None:
        found = Course.at(course) if course is not None else find_course()
        root = found.root if found else Path(".")
    if not (root / "solutions").is_dir():
        raise UsageError(f"no solutions/ directory under {root}")
    try:
        if check_only:
            stale = stub_maker.drifted(root)
            for path in stale:
                click.echo(f"out of date: {path}")
            sys.exit(1 if stale else 0)
        for path in stub_maker.write_stubs(root):
            click.echo(f"wrote {path}")
    except stub_maker.StubError as error:
        raise UsageError(str(error)) from None


@cli.command(name="nbgrader-source")
@click.argument("course_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--exercise",
    "-e",
    "names",
    multiple=True,
    help="Only this exercise (repeatable; default: every exercise with a solution in the course, else in the project).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project root holding the built-in exercises' solutions/ (default: . or the installed project's).",
)
@course_option
def nbgrader_source(course_dir, names, root, course):
    """Write nbgrader source notebooks, COURSE_DIR/source/<exercise>/<exercise>.ipynb, from solutions/."""
    from .integrations import nbgrader_source as source

    registry = use_course(course)
    # Solutions are looked up in the course first, then in the project; without -e, the course's only.
    roots = [registry.course.root] if registry.course and (registry.course.root / "solutions").is_dir() else []
    if root is not None or not roots:
        roots.append(_solutions_root(root))
    elif names:
        roots.extend(found for found in [_solutions_root_or_none()] if found is not None)
    config_existed = (course_dir / "nbgrader_config.py").exists()
    try:
        for path in source.write_course(course_dir, roots, names, registry):
            click.echo(f"wrote {path}")
    except (source.SourceError, OSError) as error:
        raise UsageError(str(error)) from None
    config = course_dir / "nbgrader_config.py"
    if config_existed and "grader.integrations.nbgrader.GradeTasks" not in config.read_text(errors="replace"):
        click.echo(f"{config} exists, left unchanged; to grade with the sandbox it needs:")
        click.echo(source.CONFIG_LINES, nl=False)
    elif config_existed:
        click.echo(f"{config} exists and grades with the sandbox (GradeTasks): left unchanged")


def _solutions_root(root):
    if root is not None:
        if not (root / "solutions").is_dir():
            raise UsageError(f"no solutions/ directory under {root}")
        return root
    found = _solutions_root_or_none()
    if found is None:
        # The wheel carries no solutions (students install it): generating needs a checkout.
        raise UsageError("no solutions/ directory here: run from a checkout of the project or pass --root")
    return found


def _solutions_root_or_none():
    installed = Path(__file__).resolve().parent.parent  # an editable install or a checkout
    for candidate in (Path("."), installed):
        if (candidate / "solutions").is_dir():
            return candidate
    return None


def main(argv=None):
    """Console entry point: every failure ends in one line and a known exit code."""
    try:
        cli.main(args=argv, prog_name="grade", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.Abort:
        click.echo("grade: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        click.echo(f"grade: {escaped(error.format_message())}", err=True)
        sys.exit(EXIT_USAGE)
    except (UsageError, SettingError) as error:  # may name a student's file, or hold any text: shown escaped
        click.echo(f"grade: {escaped(str(error))}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("grade: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except JailError as error:  # this machine's or this Python's, not the grader's: what to do, in one line
        from .sandbox.layout import cannot_start

        click.echo(f"grade: {cannot_start(error)}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as error:  # a bug in the grader: say so in one line, never a traceback
        click.echo(f"grade: internal error: {type(error).__name__}: {escaped(str(error))}", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(0)
