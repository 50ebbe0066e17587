"""The packages, declared here because pyproject.toml cannot map one of them to another folder: the wheel's
grader/stubs_data/ (the learners' stubs, for `grade init`) is built from exercises/, their only copy."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["grader*"]), "grader.stubs_data"],
    package_dir={"grader.stubs_data": "exercises"},
)
