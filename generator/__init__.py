"""tapml: render parameterized templates into complete, tested ML projects for Tanzu Application Platform."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
