"""The class report: similarity finds planted copies and no honest pair, the page is safe and shows grades.csv.

tests/similarity_class/ holds a class: eight honest students who each wrote softmax their
own way (alice .. heidi), victor's own solution and three planted copies of it (xavier with
every variable renamed, yvonne with the functions reordered, zoe with comments and
docstrings added), and pam's copy of the "public" known/public_softmax.py with renamed
variables and comments. The tests add walter (victor's file, verbatim), nina (victor's code
as notebook cells), sam and tess (the stub, untouched), eve (a link, refused) and mallory
(frank's code with hostile text in a comment, a string, an exception message and the file
name).
"""

import csv
import html
import json
import re
import shutil

import pytest
from browser import BROWSER_WIDTH, browse, chromium
from conftest import ROOT, run_grade
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.classroom import similarity
from grader.classroom.report_page import code_html
from grader.shown import escaped_name

CLASS = ROOT / "tests" / "similarity_class"
KNOWN = CLASS / "known"
STUB = ROOT / "exercises" / "softmax.py"
HONEST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "victor"]
MALLORY = "<img src=x onerror=alert(1)>\u202emallory"
PLANTED = {  # each copy and what it was copied from
    "walter": "victor",
    "xavier": "victor",
    "yvonne": "victor",
    "zoe": "victor",
    "nina": "victor",
    "pam": "known: public_softmax.py",
    MALLORY: "frank",
}
HOSTILE_MESSAGE = "<script>alert(1)</script>\u202e\u2028zero\u200bwidth &amp;"


def notebook_of(code):
    """victor's functions as a notebook: one code cell per function, a markdown cell between, a feedback cell."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Softmax\nMy notebook."}]
    for chunk in code.split("\n\n\n"):
        cells.append({"cell_type": "code", "metadata": {}, "source": chunk, "outputs": [], "execution_count": None})
        cells.append({"cell_type": "markdown", "metadata": {}, "source": "Next function:"})
    feedback = 'from grader import feedback\nfeedback("softmax", "db", globals())'
    cells.append({"cell_type": "code", "metadata": {}, "source": feedback, "outputs": [], "execution_count": None})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def mallory_code():
    code = (CLASS / "frank.py").read_text()
    raising = f"def db(dZ):\n    raise ValueError({HOSTILE_MESSAGE!r})\n"
    return "# </pre><script>alert('comment')</script> \u202e\u2028\u200b\x1b[2J\n" + code.replace(
        "def db(dZ):\n", raising
    )


def make_class(directory):
    """The class's files in `directory`: {file name: bytes}."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in CLASS.glob("*.py"):
        shutil.copy(path, directory / path.name)
    shutil.copy(CLASS / "victor.py", directory / "walter.py")  # the verbatim copy
    (directory / "nina.ipynb").write_text(notebook_of((CLASS / "victor.py").read_text()))
    for name in ("sam", "tess"):
        shutil.copy(STUB, directory / f"{name}.py")
    (directory / f"{MALLORY}.py").write_text(mallory_code())
    (directory / "eve.py").symlink_to(directory / "victor.py")  # refused, never read: a zero row, not stored
    return directory


def sources(directory):
    return [
        similarity.read_source(path.stem, path.name, path.read_bytes())
        for path in sorted(directory.iterdir())
        if path.suffix in (".py", ".ipynb") and not path.is_symlink()
    ]


def known_sources():
    return [
        similarity.read_source(
            "known: public_softmax.py", "public_softmax.py", (KNOWN / "public_softmax.py").read_bytes()
        )
    ]


def stub_source():
    return similarity.read_source("stub", STUB.name, STUB.read_bytes())


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("similarity") / "class")


@pytest.fixture(scope="module")
def everything(class_dir):
    """Every pair with anything in common (threshold 0), to see the margins."""
    return similarity.compare(sources(class_dir), known_sources(), stub_source(), threshold=0, min_tokens=0)


@pytest.fixture(scope="module")
def listed(class_dir):
    return similarity.compare(sources(class_dir), known_sources(), stub_source())


def pair_names(comparison):
    return {frozenset((pair.first, pair.second)) for pair in comparison.pairs}


def test_every_planted_copy_is_listed_with_its_source(listed):
    found = pair_names(listed)
    for copy, original in PLANTED.items():
        assert frozenset((copy, original)) in found, (copy, original)
    by_pair = {frozenset((pair.first, pair.second)): pair for pair in listed.pairs}
    for copy in ("walter", "xavier", "zoe", "nina"):  # verbatim, renamed, commented, notebook: the same tokens
        assert by_pair[frozenset((copy, "victor"))].first_share == 1.0
    for copy, original in PLANTED.items():
        pair = by_pair[frozenset((copy, original))]
        assert min(pair.first_share, pair.second_share) > 0.85, pair


def test_no_honest_pair_comes_near_the_threshold(everything, listed):
    honest = set(HONEST) | {"known: public_softmax.py"}
    shares = {
        (pair.first, pair.second): max(pair.first_share, pair.second_share)
        for pair in everything.pairs
        if pair.first in honest and pair.second in honest
    }
    assert shares, "honest students share some idioms: the margin below is measured, not empty"
    assert max(shares.values()) < similarity.THRESHOLD - 0.15, sorted(shares.items(), key=lambda kv: -kv[1])[:3]
    copies = set(PLANTED) | set(PLANTED.values())
    clusters = [{"victor", "walter", "xavier", "yvonne", "zoe", "nina"}, {"pam", "known: public_softmax.py"}]
    clusters.append({MALLORY, "frank"})
    for pair in listed.pairs:  # only copies, and only with their own cluster
        assert {pair.first, pair.second} <= copies
        assert any({pair.first, pair.second} <= cluster for cluster in clusters), pair


def test_the_stub_alone_makes_no_pair_but_would_without_its_removal(class_dir, listed):
    assert not any({"sam", "tess"} & {pair.first, pair.second} for pair in listed.pairs)
    unstubbed = similarity.compare(sources(class_dir), known_sources(), stub=None)
    assert frozenset(("sam", "tess")) in pair_names(unstubbed)


def test_renaming_comments_docstrings_and_notebook_cells_leave_the_same_tokens(class_dir):
    by_name = {source.name: source for source in sources(class_dir)}
    victor = by_name["victor"].tokens
    assert by_name["xavier"].tokens == victor
    assert by_name["zoe"].tokens == victor
    assert by_name["nina"].tokens == victor  # the markdown and the feedback cells are not code
    assert "# cell 2\n" in by_name["nina"].text
    assert by_name["alice"].tokens != victor
    # A reordered file has other tokens, and the same fingerprints but where the functions meet.
    yvonne = set(similarity.fingerprints(by_name["yvonne"]).positions)
    assert len(yvonne & set(similarity.fingerprints(by_name["victor"]).positions)) >= 0.85 * len(yvonne)


def test_attribute_names_count_and_other_names_do_not():
    def tokens(code):
        return similarity.read_source("x", "x.py", code.encode()).tokens

    assert tokens("a = np.sum(b, axis=0)\n") == tokens("zz = numpy.sum(q, axis=1)\n")
    assert tokens("a = np.sum(b, axis=0)\n") != tokens("a = np.max(b, axis=0)\n")
    assert tokens('x = "a"  # c\n"""doc"""\n') == tokens("x = 'bbb'\n")


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300), notebook=st.booleans())
def test_reading_any_bytes_never_raises(data, notebook):
    source = similarity.read_source("s", "s.ipynb" if notebook else "s.py", data)
    assert len(source.tokens) == len(source.spans)
    similarity.fingerprints(source)


@pytest.mark.parametrize(
    "code",
    [
        "def f(:\n  x = (1,\n",
        "x = 1\n  y = 2\n",
        "s = '''never closed\n",
        "a\x00b = 1\n",
        "if x:\n\tpass\n",
        "def f():\n    return 1\n\x00\n",  # Python 3.12.1's tokenizer: SystemError, and grade batch exited 3
    ],
)
def test_code_that_does_not_tokenize_is_compared_up_to_where_it_stops(code):
    source = similarity.read_source("s", "s.py", code.encode())
    assert all(0 <= start <= end <= len(source.text) for start, end in source.spans)


def test_code_keeps_its_lines_and_tabs_and_shows_everything_else_escaped():
    assert code_html("a\u202e<b>\u2028\n\tc\x1b[2J\ud800") == "a\\u202e&lt;b&gt;\\u2028\n\tc\\x1b[2J\\ud800"


def test_a_page_of_hostile_rows_is_valid_utf8_with_everything_escaped():
    from grader import exercises
    from grader.checking.results import Report, TaskResult
    from grader.classroom.class_report import class_data
    from grader.classroom.report_page import render

    spec = exercises.load("softmax")
    message = "raised \ud800\udce9 <b>\u2028</b>\x1b]52;c;AAAA\x07"
    tasks = tuple(TaskResult(task.name, 0, 1, False, message, "", ("exception",)) for task in spec.tasks)
    reports = {
        "Jos\udce9": Report("softmax", "", "x.py", 0, 4, tasks),
        "ok": Report("softmax", "", "y.py", 0, 4, tasks),
    }
    page = render(class_data(reports, spec)).encode("utf-8")  # no lone surrogate left to fail on
    assert b'href="feedback/Jos%E9.txt"' in page  # the file's own bytes
    assert b"Jos\\xe9" in page and b"raised \\ud800\\udce9 &lt;b&gt;\\u2028&lt;/b&gt;\\x1b]52;c;AAAA\\x07" in page
    assert b"\x1b" not in page and b"\x07" not in page


def test_an_interrupted_run_writes_the_page_without_comparing(tmp_path):
    from grader import exercises
    from grader.checking.results import Report, TaskResult
    from grader.classroom.class_report import write_report

    spec = exercises.load("softmax")
    tasks = tuple(TaskResult(task.name, 1, 1, True) for task in spec.tasks)
    reports = {"ann": Report("softmax", "", "ann.py", 4, 4, tasks)}
    (tmp_path / "similarity.csv").write_text("from an earlier run\n")
    data = write_report(tmp_path, reports, spec, items=[], missing=["bob"], interrupted=True)
    page = (tmp_path / "report.html").read_text()
    assert data["similarity"] is None and "not compared: the run was interrupted" in page
    assert "Incomplete: 1 of 2 submissions not graded yet" in page
    assert not (tmp_path / "similarity.csv").exists()


def test_a_known_folder_that_is_not_there_is_a_usage_error_before_grading(class_dir, tmp_path):
    result = run_grade("batch", class_dir, "-e", "softmax", "--out", tmp_path / "out", "--known", tmp_path / "nope")
    assert result.returncode == 2 and result.stderr.strip().endswith("nope: not a directory"), result.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


# -- one class graded end to end: the page and the CSV --------------------------------------


@pytest.fixture(scope="module")
def graded(class_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    result = run_grade(
        "batch", class_dir, "-e", "softmax", "--out", out, "--known", KNOWN, "-j", "2", "--timeout", "2", timeout=300
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return out, result


def page_scores(page):
    """{student: score} from the page's "Every score" table, names unescaped."""
    table = page[page.index('id="students"') :]
    rows = re.findall(r'<tr><td><a href="[^"]*">(.*?)</a></td><td class="n">([0-9.]+)/4</td></tr>', table)
    return {html.unescape(name): float(score) for name, score in rows}


@pytest.mark.slow
def test_the_page_shows_the_scores_of_grades_csv(graded):
    out, result = graded
    assert "report.html, similarity.csv" in result.stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    with open(out / "grades.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = {row["student"]: float(row["total"]) for row in rows}  # the names as grades.csv shows them
    assert page_scores(page) == expected and len(expected) == 19
    assert expected["sam"] == 0 and expected[escaped_name(MALLORY)] == 3  # db raised
    # Who needs help: the stub's students, each linked to their feedback.
    help_section = page[page.index('id="help"') : page.index('id="similarity"')]
    assert '<a href="feedback/sam.txt">sam</a>' in help_section and "scored 0/4" in help_section
    assert "file refused or unreadable: eve.py is a symbolic link" in help_section
    assert "eve" not in (out / "similarity.csv").read_text()  # never read
    # The mistakes of a task, ranked, with the hint and one example of the feedback students got.
    db = page[page.index("<h3>db (1 point)</h3>") : page.index('id="help"')]
    assert db.index("not_implemented") < db.index("exception")  # 2 students, then 1
    assert "hint: replace the `raise NotImplementedError` line with your code" in db
    assert "FAIL  db  0/1  [not_implemented]" in db


@pytest.mark.slow
def test_similarity_csv_lists_every_planted_copy_and_the_page_shows_them_side_by_side(graded):
    out, _ = graded
    with open(out / "similarity.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = {frozenset((row["first"], row["second"])) for row in rows}
    for copy, original in PLANTED.items():
        assert frozenset((escaped_name(copy), original)) in found, copy
    assert {row["second_is_known"] for row in rows if "known:" in row["second"]} == {"yes"}
    assert all(float(row["first_similarity"]) >= 0.5 or float(row["second_similarity"]) >= 0.5 for row in rows)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "evidence for a person to look at" in page and "never changes a score" in page
    assert page.count('<div class="side">') == len(rows)
    assert '<mark class="m0">' in page
    groups = re.search(r"(\d+) groups of similar code:</p><ul>(.*?)</ul>", page, re.S)
    assert groups.group(1) == "3", groups.group(0)  # victor's copies, pam's known file, mallory and frank
    assert "<li>nina, victor, walter, xavier, yvonne, zoe</li>" in groups.group(2)


@pytest.mark.slow
def test_learner_text_is_escaped_in_code_messages_and_names(graded):
    out, _ = graded
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029]", page)
    assert "&lt;img src=x onerror=alert(1)&gt;\\u202emallory" in page  # the name, escaped
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#x27;comment&#x27;)&lt;/script&gt; \\u202e\\u2028\\u200b\\x1b[2J" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\u202e\\u2028zero\\u200bwidth &amp;amp;" in page  # the message
    assert "feedback/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%E2%80%AEmallory.txt" in page
    csv_text = (out / "similarity.csv").read_text(encoding="utf-8")
    assert "\u202e" not in csv_text and "<img src=x onerror=alert(1)>\\u202emallory" in csv_text


@pytest.mark.slow
def test_grade_report_rebuilds_the_same_files_without_grading(graded, tmp_path):
    out, _ = graded
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "report.html").unlink()
    (copy / "similarity.csv").unlink()
    result = run_grade("report", copy, "--known", KNOWN)  # the exercise: the one the stored rows name
    assert result.returncode == 0, result.stderr
    assert "19 students" in result.stdout
    assert (copy / "report.html").read_text() == (out / "report.html").read_text()
    assert (copy / "similarity.csv").read_text() == (out / "similarity.csv").read_text()
    result = run_grade("report", copy, "-e", "softmax", "--no-similarity")
    page = (copy / "report.html").read_text()
    assert result.returncode == 0 and "not compared (--no-similarity)" in page
    assert not (copy / "similarity.csv").exists()  # no list left that the page does not show
    assert page_scores(page) == page_scores((out / "report.html").read_text())
    # A row whose stored result is gone (or unreadable) comes from grades.csv: the same scores.
    (copy / "results" / "sam.json").unlink()
    assert run_grade("report", copy, "-e", "softmax", "--no-similarity").returncode == 0
    page = (copy / "report.html").read_text()
    assert page_scores(page) == page_scores((out / "report.html").read_text())
    assert "not stored: see this student&#x27;s feedback file" in page
    assert run_grade("report", tmp_path, "-e", "softmax").returncode == 2  # no grades.csv: one line, exit 2


# -- the page in a browser --------------------------------------------------------------------
# Every element wider than the window (the page's own width included), measured after layout. Run only
# on a copy of the page without its Content-Security-Policy: the page itself runs no script (tested).
MEASURE = """<script>
(() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > width + 1
    || e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName + ": " + e.textContent.trim().slice(0, 60));
  document.body.setAttribute("data-measured", JSON.stringify(
    {elements: document.querySelectorAll("body *").length, wide: wide,
     page_fits: document.documentElement.scrollWidth <= width}));
})();
</script>"""


def measured(browser, text, page):
    page.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    found = re.search(r'data-measured="([^"]*)"', browse(browser, page, "--dump-dom"))
    return json.loads(html.unescape(found.group(1))) if found else None


@pytest.mark.slow
def test_in_a_browser_nothing_is_wider_than_the_window_and_nothing_runs(graded, tmp_path):
    browser = chromium()
    out, _ = graded
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in text and "Content-Security-Policy" in text
    # The page's own policy stops a script even when one is in it: the measuring script never runs...
    assert measured(browser, text, tmp_path / "with-policy.html") is None
    # ... and runs once the policy is taken out, which is how the layout is measured.
    without = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    found = measured(browser, without, tmp_path / "report.html")
    assert found["elements"] > 200 and found["page_fits"] and found["wide"] == [], found
    # The measure sees a line that is too wide: a long line in a pre that does not wrap.
    control = without.replace("<pre>", '<pre style="white-space: pre">' + "x" * 400 + "\n", 1)
    assert measured(browser, control, tmp_path / "control.html")["wide"]
    picture = tmp_path / "report.png"
    shutil.copy(out / "report.html", tmp_path / "shot.html")
    browse(browser, tmp_path / "shot.html", f"--screenshot={picture}")
    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == BROWSER_WIDTH


def test_the_page_data_reads_the_rows_once_and_takes_each_example_in_name_order():
    from grader import exercises
    from grader.checking.results import Report, TaskResult
    from grader.classroom.class_report import class_data

    spec = exercises.load("softmax")

    def report(student, hint):
        tasks = tuple(
            TaskResult(task.name, 0, 1, False, f"{student}'s fact", hint, ("wrong_axis",)) for task in spec.tasks
        )
        return Report("softmax", "", f"{student}.py", 0, 4, tasks)

    class Once(dict):  # as batch's StoredReports: each pass would read every stored row again
        passes = 0

        def items(self):
            Once.passes += 1
            return super().items()

    rows = Once(zed=report("zed", "zed's hint"), amy=report("amy", "amy's hint"))  # not in name order
    data = class_data(rows, spec)
    assert Once.passes == 1
    mistake = data["tasks"][0]["mistakes"][0]
    assert (mistake["code"], mistake["count"], mistake["example_student"]) == ("wrong_axis", 2, "amy")
    assert mistake["hint"] == "amy's hint" and "amy's fact" in mistake["example"]
    assert [row["student"] for row in data["help"]] == ["amy", "zed"] and data["scores"] == [("zed", 0), ("amy", 0)]
