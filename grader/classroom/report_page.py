"""report.html: the class report's data (class_report.class_data) as one static page.

Self-contained: inline CSS, no script, no fetched resource, and a Content-Security-Policy
that forbids both, so the page opens from a file manager and nothing in it runs. Every
text a learner controls (student names from file names, code, messages) is shown as the
rest of the grader shows it (grader.shown.escaped and escaped_name: control, bidi,
zero-width and line-separator characters and lone surrogates as escapes such as \\u202e),
then HTML-escaped. Code keeps its newlines and tabs; long lines wrap, so nothing is wider
than the window.
"""

import html
import os
from urllib.parse import quote

from ..shown import escaped, escaped_name, points
from .names import file_stem


def esc(text):
    """Any text for the page: a learner's shown escaped (grader.shown), then HTML-escaped."""
    return html.escape(escaped(text), quote=True)


def code_html(text):
    """Code or feedback for a <pre>: as esc, its lines kept apart (escaped() shows a newline as \\x0a)."""
    return "\n".join(esc(line) for line in str(text).split("\n"))


def name_html(name):
    """A student id (a file's stem: any bytes) or a known file's name, as grade batch shows it."""
    return html.escape(escaped_name(name), quote=True)


CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 0 16px 48px; max-width: 1200px;
  color: #1d1d1f; overflow-wrap: anywhere; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-bottom: .3em; }
.note { background: #fff6d6; border: 1px solid #e5c85c; padding: 8px 12px; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: .5em 0; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th.n, td.n { text-align: right; width: 7em; }
.bar { background: #4878a8; height: 12px; display: inline-block; vertical-align: middle; }
.fail .bar { background: #c8553d; }
.split { display: flex; height: 12px; width: 100%; background: #eee; }
.split .full { background: #4878a8; } .split .part { background: #e0a040; } .split .none { background: #c8553d; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 6px 8px;
  border: 1px solid #e4e4e4; border-radius: 3px; font-size: 12.5px; margin: .3em 0; max-width: 100%; }
.mistake { margin: .6em 0 1em; }
.code { font-family: ui-monospace, monospace; }
.side { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 10px; }
mark { padding: 0; } .m0 { background: #ffe08a; } .m1 { background: #b6e3b6; } .m2 { background: #b9d7f7; }
.m3 { background: #f7c6d9; } .m4 { background: #d9ccf5; } .m5 { background: #f8cfa6; }
.dim { color: #666; }
"""

SHOWN_ROWS = 2_000  # students listed in a table of the page; grades.csv has them all

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def render(data):
    """The whole page, as text (UTF-8 when written: every learner character that could not be
    encoded, a lone surrogate, is an escape by now)."""
    top = points(data["max_score"])
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(data['exercise'])}: class report</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{esc(data['exercise'])}: {esc(data['title'])}</h1>",
        f"<p>{data['count']} submissions graded; mean {data['mean']:.2f}/{top}, median "
        f"{points(data['median'])}/{top}. Scores are those of grades.csv.</p>",
    ]
    if data["missing"]:
        out.append(
            f'<p class="note">Incomplete: {len(data["missing"])} of {data["count"] + len(data["missing"])} '
            "submissions not graded yet; rerun grade batch to finish.</p>"
        )
    out.append(
        '<nav><a href="#tasks">What the class got wrong</a> · <a href="#help">Who needs help</a> · '
        '<a href="#similarity">Similar code</a> · <a href="#students">Every score</a></nav>'
    )
    out += _distribution("Scores", data["distribution"], data["count"], top)
    out += _tasks(data)
    out += _help(data)
    out += _similarity(data)
    out += _students(data)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _distribution(title, distribution, total, top, level="h3"):
    widest = max((count for _, count in distribution), default=0) or 1
    rows = [
        f"<{level}>{title}</{level}>",
        "<table>",
        '<tr><th class="n">score</th><th class="n">students</th><th></th></tr>',
    ]
    for value, count in reversed(distribution):
        width = round(100 * count / widest)
        cls = ' class="fail"' if value < float(top) else ""
        rows.append(
            f'<tr{cls}><td class="n">{points(value)}/{top}</td><td class="n">{count}</td>'
            f'<td><span class="bar" style="width: {width}%"></span></td></tr>'
        )
    rows.append("</table>")
    return rows


def _tasks(data):
    out = ['<h2 id="tasks">What the class got wrong, task by task</h2>']
    n = data["count"]
    for task in data["tasks"]:
        top = points(task["max_score"])
        out.append(f"<h3>{esc(task['name'])} ({top} point{'s' if task['max_score'] != 1 else ''})</h3>")
        out += _task_scores(task, n, top)
        if not task["mistakes"]:
            out.append("<p>No mistakes.</p>")
            continue
        out.append("<h4>Mistakes, most frequent first</h4>")
        for rank, mistake in enumerate(task["mistakes"], start=1):
            kind = " (the code did not run)" if mistake["did_not_run"] else ""
            out.append('<div class="mistake">')
            out.append(
                f'<p><b>{rank}. <span class="code">{esc(mistake["code"])}</span></b>{kind}: '
                f"{_students_count(mistake['count'])} ({mistake['share']})</p>"
            )
            if mistake["hint"]:
                out.append(f"<p>hint: {esc(mistake['hint'])}</p>")
            if mistake["example"]:
                link = _feedback_link(mistake["example_student"], "their feedback")
                out.append(f'<p class="dim">what one student was told ({link}):</p>')
                out.append(f"<pre>{code_html(mistake['example'])}</pre>")
            out.append("</div>")
    return out


def _students_count(count):
    return f"{count} student{'s' if count != 1 else ''}"


def _task_scores(task, n, top):
    """One line of a task's score distribution, and a bar split by score: full marks, partial, none."""
    said = ", ".join(f"{points(value)}/{top}: {count}" for value, count in reversed(task["distribution"]))
    out = [f"<p>passed by {task['passed']} of {n} ({task['passed_share']}); scores {said}</p>", '<div class="split">']
    for value, count in reversed(task["distribution"]):
        kind = "full" if value >= task["max_score"] else "part" if value > 0 else "none"
        width = 100 * count / (n or 1)
        out.append(f'<span class="{kind}" style="width: {width:.2f}%" title="{points(value)}/{top}: {count}"></span>')
    out.append("</div>")
    return out


def _feedback_link(student, label=None):
    """A link to feedback/<student>.txt, named as grade batch names it (names.file_stem), by its bytes."""
    target = os.fsencode(file_stem(student) + ".txt")
    href = "feedback/" + quote(target, safe="")
    text = esc(label) if label else name_html(student)
    return f'<a href="{html.escape(href, quote=True)}">{text}</a>'


def _help(data):
    out = ['<h2 id="help">Who needs help</h2>']
    if not data["help"]:
        return out + [
            "<p>Nobody: every student scored at least half the points, and no code timed out, "
            "crashed or was cut short.</p>"
        ]
    top = points(data["max_score"])
    out.append(
        f"<p>{_students_count(len(data['help']))}: under half the points, or code that timed out, crashed or was cut "
        "short, or a file that was refused or could not be graded. Each name links to the feedback the student "
        "got.</p>"
    )
    out.append('<table><tr><th>student</th><th class="n">score</th><th>why</th></tr>')
    for row in data["help"][:SHOWN_ROWS]:
        reasons = "<br>".join(esc(reason) for reason in row["reasons"])
        out.append(
            f'<tr><td>{_feedback_link(row["student"])}</td><td class="n">{points(row["score"])}/{top}</td>'
            f"<td>{reasons}</td></tr>"
        )
    out.append("</table>")
    if len(data["help"]) > SHOWN_ROWS:
        out.append(f"<p>... and {len(data['help']) - SHOWN_ROWS} more, the lowest scores first: see grades.csv.</p>")
    return out


def _percent(share):
    return f"{100 * share:.0f}%"


def _similarity(data):
    out = ['<h2 id="similarity">Similar code</h2>']
    found = data["similarity"]
    if found is None:
        return out + [f"<p>{esc(data['similarity_note'])}</p>"]
    out.append(
        '<p class="note">Similarity is evidence for a person to look at, not a verdict: it never changes a '
        "score. Short exercises leave little room to differ, and students may share code they were allowed to "
        "share. Read the matched code before concluding anything.</p>"
    )
    known = f" and against {found['known']} known solutions" if found["known"] else ""
    stub = "the stub's code taken out" if found["stub"] else "no stub found to take out"
    out.append(
        f"<p>{found['compared']} submissions compared with each other{known}, as normalized tokens (names, "
        f"numbers, strings, comments and layout do not count; functions may be in any order); {stub}. A pair "
        f"is listed when one side shares at least {_percent(found['threshold'])} of its fingerprints with the "
        f"other and the shared code holds a run of at least {found['min_tokens']} tokens (a few lines) on both "
        f"sides. Between students, only pairs sharing some code that at most {found['limit']} submissions have "
        f"are looked at ({found['common']} fingerprints are more common than that): a copy shared by more "
        "students is found only against known solutions.</p>"
    )
    if data["similarity_note"]:
        out.append(f"<p>{esc(data['similarity_note'])}</p>")
    for name, note in found["notes"]:
        out.append(f'<p class="dim">{name_html(name)}: {esc(note)}</p>')
    if not found["pairs"]:
        return out + ["<p>No pair is above the threshold.</p>"]
    out.append(f"<p>{len(found['groups'])} group{'s' if len(found['groups']) != 1 else ''} of similar code:</p><ul>")
    out += [f"<li>{', '.join(esc(name) for name in group)}</li>" for group in found["groups"][:SHOWN_ROWS]]
    out.append("</ul>")
    out.append(
        f"<p>{len(found['pairs'])} pairs, most similar first (all of them in similarity.csv). "
        "Similarity of a side: the share of that side's code found in the other.</p>"
    )
    out.append(
        '<table><tr><th class="n">#</th><th>submission</th><th>similar to</th><th class="n">first side</th>'
        '<th class="n">second side</th><th class="n">matched tokens</th></tr>'
    )
    shown = len(found["shown"])
    for rank, pair in enumerate(found["pairs"], start=1):
        label = f'<a href="#pair-{rank}">{rank}</a>' if rank <= shown else str(rank)
        second = name_html(pair["second"]) if pair["known"] else _feedback_link(pair["second"])
        out.append(
            f'<tr><td class="n">{label}</td><td>{_feedback_link(pair["first"])}</td><td>{second}</td>'
            f'<td class="n">{_percent(pair["first_share"])}</td><td class="n">{_percent(pair["second_share"])}</td>'
            f'<td class="n">{pair["matched_tokens"]}</td></tr>'
        )
    out.append("</table>")
    if shown < len(found["pairs"]):
        out.append(f"<p>The first {shown} pairs are shown side by side below.</p>")
    for rank, side in enumerate(found["shown"], start=1):
        out.append(
            f'<section id="pair-{rank}"><h3>{rank}. {name_html(side["first"])} and {name_html(side["second"])}</h3>'
        )
        if side["cut"]:
            out.append('<p class="dim">Long files: only their beginning is shown.</p>')
        out.append('<div class="side">')
        for text, regions, name in (
            (side["first_text"], side["first_regions"], side["first"]),
            (side["second_text"], side["second_regions"], side["second"]),
        ):
            out.append(f'<div><p class="dim">{name_html(name)}</p><pre>{_highlighted(text, regions)}</pre></div>')
        out.append("</div></section>")
    return out


def _highlighted(text, regions):
    """`text` escaped, each matched region in a <mark> coloured by its number (alike on both sides)."""
    parts, at = [], 0
    for start, end, number in sorted(regions):
        if start < at:
            continue
        parts.append(code_html(text[at:start]))
        parts.append(f'<mark class="m{number % 6}">{code_html(text[start:end])}</mark>')
        at = end
    parts.append(code_html(text[at:]))
    return "".join(parts)


def _students(data):
    top = points(data["max_score"])
    out = [
        '<h2 id="students">Every score</h2>',
        f"<details><summary>{len(data['scores'])} students, as in grades.csv</summary>",
        '<table><tr><th>student</th><th class="n">score</th></tr>',
    ]
    out += [
        f'<tr><td>{_feedback_link(student)}</td><td class="n">{points(score)}/{top}</td></tr>'
        for student, score in data["scores"][:SHOWN_ROWS]
    ]
    out.append("</table>")
    if len(data["scores"]) > SHOWN_ROWS:
        out.append(f"<p>... and {len(data['scores']) - SHOWN_ROWS} more in grades.csv.</p>")
    out.append("</details>")
    return out
