"""Only the package list lives here: ``models/`` at the top of the repository is installed as
``facegate.models`` and ``systemd/`` as ``facegate.units`` (pyproject.toml maps the folders),
which ``packages.find`` cannot express. Everything else about the distribution is in
pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages("device"), "facegate.models", "facegate.units"])
