"""Package list for setuptools (everything else is in pyproject.toml).

`find_packages` cannot see `registry.static`, which pyproject maps to the
top-level static/ folder, so it is added by name here.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["signing*", "registry*"]), "registry.static"])
