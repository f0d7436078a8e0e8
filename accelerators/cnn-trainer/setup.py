"""Packaging for src/TAPMLSENTINEL0017X: requirements.txt installs the project with its last line, `.`.

Deliberately setup.py and not pyproject.toml: the Paketo Python buildpack takes the Poetry path for any project
with a pyproject.toml. The pinned runtime dependencies live in requirements.txt.
"""

from setuptools import find_packages, setup

setup(
    name="TAPMLSENTINEL0001X",
    version="0.1.0",
    description="TAPMLSENTINEL0002X",
    python_requires=">=3.11,<3.12",
    package_dir={"": "src"},
    packages=find_packages("src"),
    entry_points={
        "console_scripts": [
            "TAPMLSENTINEL0001X-train = TAPMLSENTINEL0017X.train:main",
            "TAPMLSENTINEL0001X-evaluate = TAPMLSENTINEL0017X.evaluate:main",
            "TAPMLSENTINEL0001X-loop = TAPMLSENTINEL0017X.loop:main",
        ],
    },
)
