"""The one error type a request can end in: an HTTP status and a message for the caller."""

from __future__ import annotations


class RequestError(Exception):
    """A request we refuse, with the status and message the caller sees."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}
