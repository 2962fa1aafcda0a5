"""The bodies a misbehaving server answers a fault status with: an edge proxy's HTML page (the
CDN, or any server with ``html``), S3's XML error (storage), or the API's JSON envelope."""

from __future__ import annotations

import json
from http import HTTPStatus

ERROR_CODES = {429: "rate_limited", 500: "internal_error", 502: "bad_gateway",
               503: "service_unavailable", 504: "gateway_timeout", 401: "unauthorized",
               403: "forbidden", 404: "not_found", 422: "validation_error"}
S3_CODES = {500: "InternalError", 503: "SlowDown", 403: "AccessDenied", 404: "NoSuchKey",
            400: "BadRequest", 429: "SlowDown"}


def reason(status: int) -> str:
    """The HTTP reason phrase of ``status`` ("Error" if unknown)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(server: str, status: int, html: bool = False) -> tuple[bytes, str]:
    """The body a misbehaving ``server`` would send for ``status``, and its content type."""
    phrase = reason(status)
    if html or server == "cdn":
        page = f"<html><head><title>{status} {phrase}</title></head><body><center><h1>" \
               f"{status} {phrase}</h1></center><hr><center>sandbox-edge</center></body></html>"
        return page.encode(), "text/html; charset=utf-8"
    if server == "storage":
        return s3_error_xml(S3_CODES.get(status, "ServiceUnavailable"), phrase), \
            "application/xml"
    payload = {"error": f"{phrase} (sandbox fault)", "error_code": ERROR_CODES.get(status, "error")}
    return json.dumps(payload).encode(), "application/json"


def s3_error_xml(code: str, message: str, **extra: str) -> bytes:
    """An S3-style ``<Error>`` document (``extra`` become more elements, e.g. Key=…)."""
    more = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message>{more}<RequestId>SANDBOX</RequestId></Error>").encode()
