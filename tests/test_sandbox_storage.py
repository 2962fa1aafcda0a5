"""The sandbox storage endpoint: every method needs a signature that binds the method too."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from gen_nb import sandbox

DATA = b"stored bytes " * 1000


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.start() as handle:
        yield handle


@pytest.fixture()
def stored(sb: sandbox.Sandbox) -> str:
    """Key of an object that was just uploaded with a signed PUT."""
    key = "signed/object.bin"
    assert requests.put(sb.storage_put_url(key), data=DATA, timeout=10).status_code == 200
    return key


def _unsigned(url: str) -> str:
    return url.split("?")[0]


def _code(resp: requests.Response) -> str:
    return resp.text.split("<Code>")[1].split("</Code>")[0]


def test_storage_put_url_is_the_put_case_of_storage_url(sb: sandbox.Sandbox) -> None:
    assert sb.storage_put_url("a/b.mp4") == sb.storage_url("a/b.mp4", method="PUT")
    assert sb.storage_url() == sb.storage_put_url()  # defaults: out.mp4 in sandbox-bucket
    assert urlsplit(sb.storage_url("x", "other-bucket")).path == "/other-bucket/x"


def test_signatures_differ_by_method(sb: sandbox.Sandbox) -> None:
    urls = {m: sb.storage_url("k.bin", method=m) for m in ("PUT", "POST", "GET", "HEAD",
                                                           "DELETE")}
    assert urls["PUT"] == urls["POST"] and urls["GET"] == urls["HEAD"]
    assert len({urls["PUT"], urls["GET"], urls["DELETE"]}) == 3
    assert sb.storage_url("k.bin", method="get") == urls["GET"]


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE"])
def test_storage_url_rejects_other_methods(sb: sandbox.Sandbox, method: str) -> None:
    with pytest.raises(ValueError):
        sb.storage_url("k.bin", method=method)


def test_signed_get_and_head_read_back(sb: sandbox.Sandbox, stored: str) -> None:
    url = sb.storage_url(stored, method="GET")
    assert requests.get(url, timeout=10).content == DATA
    head = requests.head(sb.storage_url(stored, method="HEAD"), timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(DATA)
    part = requests.get(url, headers={"Range": "bytes=0-5"}, timeout=10)
    assert part.status_code == 206 and part.content == DATA[:6]


def test_signed_get_of_a_missing_key_is_404(sb: sandbox.Sandbox) -> None:
    resp = requests.get(sb.storage_url("never/put.bin", method="GET"), timeout=10)
    assert resp.status_code == 404 and _code(resp) == "NoSuchKey"


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "PUT", "POST"])
def test_unsigned_requests_are_access_denied(sb: sandbox.Sandbox, stored: str,
                                             method: str) -> None:
    url = _unsigned(sb.storage_url(stored, method=method))
    resp = requests.request(method, url, data=b"x" if method in ("PUT", "POST") else None,
                            timeout=10)
    assert resp.status_code == 403
    if method != "HEAD":
        assert _code(resp) == "AccessDenied"
        assert resp.headers["Content-Type"].startswith("application/xml")
    assert sb.storage_object(stored).read_bytes() == DATA


@pytest.mark.parametrize(("signed_for", "used_as"), [
    ("PUT", "DELETE"), ("PUT", "GET"), ("GET", "DELETE"), ("GET", "PUT"), ("DELETE", "GET"),
    ("DELETE", "PUT"),
])
def test_a_signature_only_works_for_its_method(sb: sandbox.Sandbox, stored: str,
                                               signed_for: str, used_as: str) -> None:
    url = sb.storage_url(stored, method=signed_for)
    resp = requests.request(used_as, url, data=b"evil" if used_as == "PUT" else None,
                            timeout=10)
    assert resp.status_code == 403 and _code(resp) == "SignatureDoesNotMatch"
    assert sb.storage_object(stored).read_bytes() == DATA


def test_a_signature_only_works_for_its_key(sb: sandbox.Sandbox, stored: str) -> None:
    other = sb.storage_url("other.bin", method="GET").replace("/other.bin?", f"/{stored}?")
    resp = requests.get(other, timeout=10)
    assert resp.status_code == 403 and _code(resp) == "SignatureDoesNotMatch"


def test_signed_delete_removes_the_object(sb: sandbox.Sandbox, stored: str) -> None:
    resp = requests.delete(sb.storage_url(stored, method="DELETE"), timeout=10)
    assert resp.status_code == 204 and sb.storage_object(stored) is None
    assert requests.get(sb.storage_url(stored, method="GET"), timeout=10).status_code == 404


def test_bad_paths_and_methods_are_refused_before_the_signature(sb: sandbox.Sandbox) -> None:
    assert requests.get(sb.storage_base + "/only-a-bucket", timeout=10).status_code == 400
    patch = requests.patch(_unsigned(sb.storage_url("k.bin")), data=b"x", timeout=10)
    assert patch.status_code == 405


def test_bucket_url_is_a_stream_destination_that_can_be_read_back(sb: sandbox.Sandbox) -> None:
    url = sb.bucket_url("exports/render.mp4")
    assert url == sb.storage_put_url("exports/render.mp4")
    assert urlsplit(url).path == "/sandbox-bucket/exports/render.mp4"
    assert requests.put(url, data=DATA, headers={"Content-Type": "video/mp4"},
                        timeout=10).status_code == 200
    stored = sb.bucket_object("exports/render.mp4")
    assert stored is not None and stored.size == len(DATA) and stored.read_bytes() == DATA
    assert stored.content_type == "video/mp4"
    back = requests.get(sb.bucket_url("exports/render.mp4", method="GET"), timeout=10)
    assert back.status_code == 200 and back.content == DATA
    assert "exports/render.mp4" in sb.bucket_keys()
    assert sb.bucket_object("exports/nothing.mp4") is None
