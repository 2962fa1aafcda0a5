"""The sandbox API's error answer, raised by state changes and endpoints alike."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: ``status`` + message + error_code (+ extra fields / detail envelope).

    The API app renders it as ``{"error", "error_code", …}``, or, with ``detail=True``, as the
    publishing service's ``{"detail": {…}}``; ``headers`` are added to the response.
    """

    def __init__(self, status: int, message: str, code: str, *, detail: bool = False,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.detail = status, message, code, detail
        self.extra, self.headers = extra, headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error", "error_code", …}`` or ``{"detail": {…}}``."""
        inner = {"error": self.message, "error_code": self.code, **self.extra}
        return {"detail": inner} if self.detail else inner
