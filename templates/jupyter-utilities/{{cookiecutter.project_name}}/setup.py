"""Packaging for src/{{ cookiecutter.__package_name }}: requirements.txt installs the helpers with its last line, `.`.

Deliberately setup.py and not pyproject.toml: the Paketo Python buildpack takes the Poetry path for any project
with a pyproject.toml. The pinned dependencies live in requirements.txt.
"""

from setuptools import find_packages, setup

setup(
    name="{{ cookiecutter.project_name }}",
    version="0.1.0",
    description="{{ cookiecutter.description }}",
    python_requires=">=3.11,<3.12",
    package_dir={"": "src"},
    packages=find_packages("src"),
)
