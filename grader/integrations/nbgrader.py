"""GradeTasks: an nbgrader autograde preprocessor that grades with the grader's sandbox.

It replaces nbgrader's Execute in c.Autograde.autograde_preprocessors (the exact
lines: grader/nbgrader_source.py CONFIG_LINES, and docs/nbgrader.md). Instead of running
the student's cells and the test cells in one kernel, where a solution cell can
patch whatever the test cells use, it grades the notebook's code with
grader.grading.grade (a sandboxed child process; every verdict computed here) and
writes each test cell's outputs as if the cell had run: the task's feedback on
stdout (report.render_task: fact, hint and details on their own wrapped lines, and
the parts' scores) and its score as a plain-float execute_result, partial credit
included. nbgrader's own
SaveAutoGrades, gradebook, export and feedback then work unchanged.

Exercises: the built-in ones, a course's (c.GradeTasks.course, else the grade.toml or
pyproject.toml [tool.grade] found from nbgrader's directory) and installed packages'.
Inputs: each student's own when a course secret is configured (c.GradeTasks.secret_file
or $GRADE_SECRET; variants.py), else the public inputs of c.GradeTasks.seed, logged once.

Only nbgrader imports this module (grader itself never does), so `grade check`
does not pay for importing nbgrader.
"""

import os
import re
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Float, Integer, Unicode

from .. import defaults, variants
from ..checking.grading import grade, zero_report
from ..exercises.registry import Course, Registry, find_course
from ..reading.submission import SubmissionError, UsageError, notebook_submission
from ..report import render_task
from ..sandbox import layers
from ..sandbox.errors import JailError
from ..sandbox.layout import cannot_start
from ..shown import escaped

# The task a generated test cell checks, from its grade_id or its feedback call.
_GRADE_ID = re.compile(r"^test_(\w+)$")
_SKIPPED = re.compile(r"^.*?, cell (\d+), (lines? [\d-]+): ")
_CALL = re.compile(r"""feedback\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]""")


class GradeTasks(NbGraderPreprocessor):
    """Grade a notebook's tasks in the sandbox and write the test cells' outputs."""

    _told_no_secret: set = set()  # (secret_file, submitted directory, seed) already logged
    _cannot_start: dict = {}  # pid -> the line said when a jail could not start in that process

    timeout = Float(defaults.TIMEOUT, help="Seconds each task may run (grade check --timeout).").tag(config=True)
    memory_mb = Integer(defaults.MEMORY_MB, help="Memory cap of the student's process, MiB.").tag(config=True)
    seed = Integer(defaults.SEED, help="Seed of the grader's inputs (grade check --seed).").tag(config=True)
    exercise = Unicode("", help="Exercise to grade against (default: the notebook's name).").tag(config=True)
    course = Unicode(
        "",
        help="Course directory whose specs/ hold exercises (default: found from a grade.toml or a "
        "pyproject.toml with [tool.grade] in nbgrader's directory or above).",
    ).tag(config=True)
    secret_file = Unicode(
        "",
        help="File holding the course secret: each student graded on their own inputs (grade batch "
        "--secret-file; default: $GRADE_SECRET; without either, the public inputs of `seed`).",
    ).tag(config=True)
    trust_submissions = Bool(
        False,
        help="Grade even when this machine's sandbox lacks a layer (grade doctor; grade batch --trust-submissions).",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        # A jail that cannot start fails every notebook with the grade command's one line, and nothing
        # is scored: nbgrader lists each submission as failed and exits non-zero. After the first
        # failure no jail is tried again in this process: each attempt could wait a minute.
        said = GradeTasks._cannot_start.get(os.getpid())
        if said is None:
            try:
                return self._grade_notebook(nb, resources)
            except JailError as error:
                said = f"GradeTasks: {cannot_start(error)}; no notebook is graded in this run (each fails, none scored)"
                GradeTasks._cannot_start[os.getpid()] = said
                self.log.error("%s", said)
        raise RuntimeError(said)

    def _grade_notebook(self, nb, resources):
        if not self.trust_submissions:
            reason = layers.refusal(layers.probe_once())
            if reason:  # nbgrader logs it and grades nothing: no student's code runs unjailed
                raise RuntimeError(f"GradeTasks: {reason} (c.GradeTasks.trust_submissions = True)")
        # The name comes from nbgrader (the source notebook's), never from the student's file.
        notebook = resources.get("nbgrader", {}).get("notebook") or resources.get("unique_key", "")
        try:
            spec = self._registry().load(self.exercise or notebook)
            secret = self._secret()
        except UsageError as error:  # nbgrader logs this and skips the submission
            raise ValueError(f"GradeTasks: notebook {notebook!r}: {error} (set c.GradeTasks.exercise)") from None
        student = resources.get("nbgrader", {}).get("student", "?")
        variant = variants.student_seed(secret, student) if secret is not None else None
        try:
            submission = notebook_submission(nb, f"{notebook}.ipynb")
        except SubmissionError as error:  # nbgrader read it, so this is unexpected: score nothing, say why
            report = zero_report(spec, f"{notebook}.ipynb", str(error), "import_error", unreadable=True)
        else:
            report = grade(
                submission, spec, timeout=self.timeout, seed=self.seed, memory_mb=self.memory_mb, variant=variant
            )
        self.log.info(
            "GradeTasks: %s of %s scored %g/%g in %.2f s",
            notebook,
            student,
            report.score,
            report.max_score,
            report.seconds,
        )
        results = {task.name: task for task in report.tasks}
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            count += 1
            if utils.is_grade(cell) and not utils.is_solution(cell):
                self._write_test(cell, spec, results, count)
        self._attach_cell_errors(nb, report.cell_errors)
        self._attach_cut_short(nb, report.cut_short)
        return writable(nb), resources

    def _registry(self):
        if getattr(self, "_exercises", None) is None:
            self._exercises = Registry(Course.at(self.course) if self.course else find_course())
        return self._exercises

    def _secret(self):
        """The course secret; None when there is none, logged once per autograde run (nbgrader makes
        a GradeTasks per notebook: what was said is kept on the class)."""
        if not hasattr(self, "_course_secret"):
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
            submitted = Path(coursedir.root) / coursedir.submitted_directory
            self._course_secret = variants.read_secret(self.secret_file or None, class_dir=submitted)
            told = (self.secret_file, str(submitted), self.seed)
            if self._course_secret is None and told not in GradeTasks._told_no_secret:
                GradeTasks._told_no_secret.add(told)
                self.log.warning(
                    "GradeTasks: no course secret (c.GradeTasks.secret_file or $%s): every student is graded "
                    "on the public inputs of seed %d",
                    variants.SECRET_ENV,
                    self.seed,
                )
        return self._course_secret

    def _write_test(self, cell, spec, results, count):
        task = task_of(cell, spec)
        if task is None:
            # No task to score it by, and no kernel to run it in: 0, with the reason in the cell.
            cell.outputs = [
                new_output(
                    "error",
                    ename="GradeTasksError",
                    evalue=(
                        f"this test cell checks no task of exercise {spec.name!r} "
                        f"(tasks: {', '.join(t.name for t in spec.tasks)}): give it grade_id test_<task>"
                    ),
                    traceback=["GradeTasksError: this test cell checks no task"],
                )
            ]
            return
        result = results[task]
        cell.execution_count = count
        cell.outputs = [
            new_output("stream", name="stdout", text=render_task(result)),
            new_output("execute_result", data={"text/plain": repr(float(result.score))}, execution_count=count),
        ]

    def _attach_cell_errors(self, nb, cell_errors):
        """Show each student cell that raised under that cell, as a kernel would (not graded)."""
        for error in cell_errors:
            if error.cell is None or not 0 < error.cell <= len(nb.cells):
                continue
            cell = nb.cells[error.cell - 1]
            if cell.cell_type == "code" and not utils.is_grade(cell):
                kind, message = escaped(error.type), escaped(error.message)  # the learner's words
                cell.outputs.append(new_output("error", ename=kind, evalue=message, traceback=[f"{kind}: {message}"]))

    def _attach_cut_short(self, nb, cut_short):
        """Under each student cell whose top-level code the grader did not run (Report.cut_short), say so."""
        if cut_short is None:
            return
        spans = {}
        for where in cut_short.skipped:  # "softmax.ipynb, cell 9, lines 2-4: for lr in ..."
            found = _SKIPPED.match(where)
            if found:
                spans.setdefault(int(found.group(1)), []).append(found.group(2))
        for number, lines in spans.items():
            cell = nb.cells[number - 1] if 0 < number <= len(nb.cells) else None
            if cell is not None and cell.cell_type == "code" and not utils.is_grade(cell):
                cell.outputs.append(
                    new_output(
                        "stream",
                        name="stdout",
                        text=f"The grader did not run {', '.join(lines)} of this cell: {escaped(cut_short.reason)}, "
                        "so the functions were graded after running only the notebook's imports, definitions and "
                        "simple assignments.\n",
                    )
                )


def writable(nb):
    """NB, checked to be writable as the UTF-8 file nbgrader saves: the graded notebook, the feedback made
    from it and the gradebook are written together or not at all, and the gradebook is written (by
    SaveAutoGrades, after this preprocessor) before the notebook. A student's notebook may hold lone
    surrogates (JSON's "\\udce9" reads as one, and no UTF-8 file can hold it): each is shown as its
    escape, wherever it is. Anything else that cannot be written raises here, before the gradebook."""
    _without_surrogates(nb)
    from nbformat import writes

    writes(nb).encode("utf-8")
    return nb


def _without_surrogates(node):
    if isinstance(node, dict):
        for key in list(node):
            value = node.pop(key)
            node[_encodable(key)] = _encodable(value) if isinstance(value, str) else _without_surrogates(value)
    elif isinstance(node, list):
        node[:] = [_encodable(item) if isinstance(item, str) else _without_surrogates(item) for item in node]
    return node


def _encodable(text):
    if not isinstance(text, str) or text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def task_of(cell, spec):
    """The task a test cell checks: grade_id test_<task>, else the task named in its feedback call."""
    names = {task.name for task in spec.tasks}
    match = _GRADE_ID.match(str(cell.metadata.get("nbgrader", {}).get("grade_id", "")))
    if match and match.group(1) in names:
        return match.group(1)
    call = _CALL.search(cell.source)
    if call and call.group(1) == spec.name and call.group(2) in names:
        return call.group(2)
    return None


class RestoreMissingCells(OverwriteCells):
    """nbgrader's OverwriteCells, except that a grade cell missing from the submission is put back
    after the nearest earlier cell of the source notebook that the submission still has.

    nbgrader's own (add_missing_cells) looks only at the cell just before it in the source; when the
    student deleted that one too (a solution written into the cell above, its own cell and test cell
    deleted), it raises KeyError and nbgrader drops the whole notebook: a correct notebook scored 0.
    Named in c.Autograde.sanitize_preprocessors in place of OverwriteCells (nbgrader_source.CONFIG_LINES);
    c.OverwriteCells settings apply to it (add_missing_cells = True, as nbgrader_source writes it). It also
    shows the notebook's lone surrogates as escapes (writable): nbgrader writes the sanitized notebook
    before GradeTasks sees it, and drops a student's whole assignment when that fails (a lone surrogate
    in a markdown cell). Done here, in a method of its own, so that no refusal of nbgrader's passes
    through this module."""

    def add_missing_grade_cells(self, nb, resources):
        _without_surrogates(nb)
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source.source_cells]
        position = {name: index for index, name in enumerate(order)}
        cells = {cell.name: cell for cell in source.source_cells}
        solutions = {cell.name for cell in source.solution_cells}
        for grade_cell in sorted(source.grade_cells, key=lambda cell: position[cell.name]):
            present = _graded_cell_positions(nb)
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            restored = self.missing_cell_transform(
                cells[grade_cell.name], grade_cell.max_score, is_solution=grade_cell.name in solutions
            )
            earlier = [present[name] for name in order[: position[grade_cell.name]] if name in present]
            nb.cells.insert(max(earlier) + 1 if earlier else 0, restored)
        return nb, resources


def _graded_cell_positions(nb):
    """{grade_id: index} of the notebook's grade and solution cells."""
    positions = {}
    for index, cell in enumerate(nb.cells):
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None  # a student's file: any type
        if isinstance(meta, dict) and (meta.get("grade") or meta.get("solution")):
            grade_id = meta.get("grade_id")
            if isinstance(grade_id, str):
                positions[grade_id] = index
    return positions
