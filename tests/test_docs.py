"""The README and the docs/ pages: every relative link reaches a file, and a heading when it names one."""

import re

import pytest
from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)")


def anchors(page):
    """GitHub's anchors of PAGE's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_reaches_a_file_and_heading(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    for target, anchor in LINK.findall(text):
        if target.startswith(("http://", "https://")):
            continue
        linked = (page.parent / target).resolve() if target else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: no heading #{anchor} in {linked.name}"


def test_the_readme_is_a_front_page():
    # The newcomer's page: the two commands first, then one short path each; the rest lives in docs/.
    readme = (ROOT / "README.md").read_text()
    commands = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert commands == [
        "pip install -e . && grade check solutions/softmax.py",
        'pip install -e ".[test]" && pytest -n 2',
    ]
    assert [line for line in readme.splitlines() if line.startswith("## ")][:4] == [
        "## Quick start",
        "## Students",
        "## Instructors",
        "## Exercise authors",
    ]
    assert len(readme.splitlines()) < 120


def test_installing_says_to_use_a_virtual_environment():
    # pip refuses to install outside one on systems that follow PEP 668 (externally-managed-environment).
    for page in (ROOT / "README.md", ROOT / "docs" / "students.md"):
        text = page.read_text()
        assert "PEP 668" in text and "python3 -m venv .venv" in text, page.name
        assert text.index("python3 -m venv .venv") < text.index("pip install backprop_grade"), page.name


def test_built_distributions_are_not_tracked():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "dist/" in ignored  # python -m build writes the sdist and the wheel there
