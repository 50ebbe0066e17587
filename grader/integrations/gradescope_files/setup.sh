#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (the Ubuntu 22.04
# base image, whose python3 is 3.10): with the image's own python3, whatever its layout (the jail
# derives what a submission may read from the interpreter it runs on). It installs the grader from the wheel beside this script
# into a virtual environment of its own, with its dependencies (numpy, ...) from PyPI, or from
# wherever pip is pointed (PIP_NO_INDEX, PIP_FIND_LINKS): no git host is needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Ubuntu's python3 comes without ensurepip (package python3-venv); a bare image lacks python3.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: the grader needs Python 3.10 or newer, this image has $(python3 --version 2>&1):" \
         "choose the Ubuntu 22.04 base image" >&2
    exit 1
fi

python3 -m venv "$here/venv"
"$here/venv/bin/python" -m pip install --disable-pip-version-check "$here"/*.whl numpy
# The settings hold the private seed; only root (the grader) needs to read them.
chmod 600 "$here/grade.json"
# Fail the build here, not at the first submission: the grader must load, and its jail must start with
# this python3 (exit 2 says why not, in one line). A layer the build's container lacks is only reported:
# whether to grade without it is run_autograder's to decide, with --trust-submissions.
"$here/venv/bin/grade" list >/dev/null
doctor=0
"$here/venv/bin/grade" doctor || doctor=$?
if [ "$doctor" -ge 2 ]; then
    echo "setup.sh: grade doctor exited with $doctor: the grader's sandbox cannot start in this image (why: above)" >&2
    exit 1
fi
echo "setup.sh: $("$here/venv/bin/grade" --version) in $here/venv"
