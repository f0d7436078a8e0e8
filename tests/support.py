"""What every test module may import: repository paths and the CI rule for missing services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(what: str, why: str) -> NoReturn:
    """Skip on a developer machine; fail when CI=true, where a skipped test is not a passed test."""
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services and tools must run, not skip)")
    pytest.skip(message)
