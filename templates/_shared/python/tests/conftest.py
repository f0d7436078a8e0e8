"""The shared modules' tests import them by their own names (`import holdout`), here from the folder above.

In a generated project the same test files find them inside the project's package: its conftest.py registers
them under these names.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
