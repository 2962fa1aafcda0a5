"""error_from_response: every documented status and error_code, both envelopes, odd bodies."""

from __future__ import annotations

import email.utils
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_nb.api import redact as redaction
from gen_nb.api.errors import (
    APIError,
    AuthenticationError,
    ConfirmationRequired,
    GenError,
    InsufficientCreditsError,
    JobCannotBeStoppedError,
    NotFoundError,
    PermissionDeniedError,
    PlatformValidationError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    ValidationError,
    error_from_response,
)
from gen_nb.api.transport import parse_retry_after

DOCUMENTED = [
    (401, "unauthorized", AuthenticationError),
    (403, "permission_denied", PermissionDeniedError),
    (403, "forbidden", PermissionDeniedError),
    (404, "not_found", NotFoundError),
    (404, "content_resource_not_found", NotFoundError),
    (404, "project_not_found", NotFoundError),
    (422, "validation_error", ValidationError),
    (422, "agent_not_found", ValidationError),
    (422, "usable_gen_credit_required", InsufficientCreditsError),
    (422, "insufficient_credits_for_job", InsufficientCreditsError),
    (422, "job_cannot_be_stopped", JobCannotBeStoppedError),
    (422, "no_active_credit_purchase", InsufficientCreditsError),
    (422, "platform_validation_failed", PlatformValidationError),
    (429, "rate_limited", RateLimitError),
    (429, "rate_limit_exceeded", RateLimitError),
]


def _main(code: str, message: str = "it went wrong") -> bytes:
    return json.dumps({"error": message, "error_code": code}).encode()


def _detail(code: str, message: str = "it went wrong") -> bytes:
    return json.dumps({"detail": {"error": message, "error_code": code, "platform": "youtube",
                                  "field": "title",
                                  "errors": [{"platform": "youtube", "field": "title",
                                              "error": "required"}]}}).encode()


@pytest.mark.parametrize("envelope", [_main, _detail], ids=["main", "detail"])
@pytest.mark.parametrize(("status", "code", "cls"), DOCUMENTED,
                         ids=[f"{s}-{c}" for s, c, _ in DOCUMENTED])
def test_every_documented_code_maps_to_its_class(envelope, status, code, cls) -> None:
    err = error_from_response(status, envelope(code), {}, subject="generation 42",
                              method="GET", url="https://api.gen.pro/v1/generations/42")
    assert type(err) is cls
    assert isinstance(err, APIError) and isinstance(err, GenError)
    assert err.status == status and err.error_code == code
    text = str(err)
    assert "generation 42" in text and str(status) in text and code in text
    assert "it went wrong" in text
    assert err.hint and err.hint in text  # the next step is in the message


@pytest.mark.parametrize(("status", "cls", "builtin"), [
    (401, AuthenticationError, PermissionError),
    (403, PermissionDeniedError, PermissionError),
    (404, NotFoundError, LookupError),
    (410, NotFoundError, LookupError),
    (422, ValidationError, ValueError),
    (428, ConfirmationRequired, None),
    (429, RateLimitError, None),
    (500, ServerError, None),
    (502, ServerError, None),
    (503, ServerError, None),
    (504, ServerError, None),
    (418, UnexpectedResponseError, None),
])
def test_status_alone_picks_the_class(status, cls, builtin) -> None:
    err = error_from_response(status, json.dumps({"error": "nope"}), {}, subject="engine 812")
    assert type(err) is cls
    if builtin is not None:
        assert isinstance(err, builtin)
    assert "engine 812" in str(err) and f"HTTP {status}" in str(err)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("body", [None, b"", "   "])
def test_5xx_without_body(status, body) -> None:
    err = error_from_response(status, body, {}, subject="content resource 7")
    assert isinstance(err, ServerError)
    assert err.body is None and err.error_code is None
    assert f"HTTP {status}" in str(err) and "content resource 7" in str(err)


@pytest.mark.parametrize("status", [200, 404, 429, 502])
def test_html_proxy_page_becomes_a_clear_error(status) -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>" \
           b"<p>nginx</p></body></html>"
    err = error_from_response(status, html, {"Content-Type": "text/html"},
                              subject="generation 9", url="https://api.gen.pro/v1/generations/9")
    assert isinstance(err, APIError)
    if status == 200:
        assert isinstance(err, UnexpectedResponseError)
    text = str(err)
    assert "not JSON" in text and "text/html" in text and "Bad Gateway" in text
    assert "<html>" not in text


def test_detail_string_envelope() -> None:
    err = error_from_response(422, json.dumps({"detail": "Field required"}), {},
                              subject="publishing")
    assert isinstance(err, ValidationError) and "Field required" in str(err)


def test_platform_validation_error_fields() -> None:
    err = error_from_response(422, _detail("platform_validation_failed", "Title is required"), {},
                              subject="publishing")
    assert isinstance(err, PlatformValidationError)
    assert err.platform == "youtube" and err.field == "title"
    assert err.errors == [{"platform": "youtube", "field": "title", "error": "required"}]


def test_428_carries_token_and_what_would_go() -> None:
    body = {"would_destroy": {"content_resources": 1}, "confirm_token": "tok_7f3a"}
    err = error_from_response(428, json.dumps(body), {}, subject="content resource 4821")
    assert isinstance(err, ConfirmationRequired)
    assert err.confirm_token == "tok_7f3a" and err.would_destroy == {"content_resources": 1}


def test_code_refines_only_within_its_status_family() -> None:
    # not_found sent with a 422 stays a validation error
    err = error_from_response(422, _main("not_found"), {}, subject="x")
    assert type(err) is ValidationError


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("0", 0.0), ("2.5", None),
                                                  (None, None), ("soon", None)])
def test_retry_after_seconds(header, expected) -> None:
    wait = parse_retry_after(header)
    err = error_from_response(429, _main("rate_limited"), {}, subject="x", retry_after=wait)
    assert isinstance(err, RateLimitError) and err.retry_after == expected


def test_retry_after_http_date() -> None:
    now = time.time()
    when = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(when) == pytest.approx(30, abs=1.5)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True)) == 0.0


def test_url_in_message_is_redacted() -> None:
    err = error_from_response(404, _main("not_found"), {}, subject="generation 1",
                              url="https://api.gen.pro/v1/generations/1?x_api_key=gen_pat_SECRET1")
    assert "gen_pat_SECRET1" not in str(err)


_KEYS = st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122,
                                       categories=("Lu", "Ll", "Nd")), min_size=12, max_size=40)


@settings(max_examples=60, deadline=None)
@given(secret=_KEYS)
def test_key_never_in_exception_text(secret) -> None:
    key = "gen_pat_" + secret
    body = json.dumps({"error": f"bad key {key}", "error_code": "unauthorized"})
    err = error_from_response(401, body, {"X-API-Key": key}, subject="generation 1",
                              url=f"https://api.gen.pro/v1/generations/1?key={key}")
    assert key not in str(err) and key not in repr(err)
    assert key not in redaction.redact(f"Authorization: Bearer {key}")
