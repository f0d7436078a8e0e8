"""What can go wrong in the helpers, each said in one line that names the fix.

In a notebook these errors show as that one line instead of a traceback (IPython calls `_render_traceback_`).
"""

from __future__ import annotations


class HelperError(Exception):
    """A problem the caller can fix, said in one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class BindingError(HelperError, ValueError):
    """A service binding (or DATABASE_URL) that is missing, incomplete, unreadable or of the wrong type."""


class DatabaseError(HelperError):
    """The database cannot be reached, or refuses a query."""


class ImageError(HelperError, ValueError):
    """An image, folder or URL that cannot be read."""


class ModelError(HelperError, ValueError):
    """A model that cannot be loaded."""
