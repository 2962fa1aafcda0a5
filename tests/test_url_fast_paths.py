"""The string fast path for plain URLs (gen_nb.api.redact._PLAIN_URL) gives exactly what the
urlsplit path gives, for every URL it takes — and it is taken for the URLs a CDN hands out.

Every download parses its URL several times (the manifest record, the batch's names, results
and messages); the fast path is there for speed only, so any difference would be a bug.
"""

from __future__ import annotations

import re
import string
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_nb.api import redact
from gen_nb.transfer.headers import split_url
from gen_nb.transfer.manifest import record_for

NEVER = re.compile(r"(?!)")

_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%?#\\ \t[]" + "éü"
urls = st.one_of(
    st.builds(lambda scheme, host, port, path, query, frag: (
        f"{scheme}://{host}{port}{path}{query}{frag}"),
        st.sampled_from(["http", "https", "HTTP", "Https", "ftp"]),
        st.sampled_from(["cdn.gen.pro", "127.0.0.1", "CDN.Example", "u:pw@h.example", "[::1]",
                         "h_x.example", ""]),
        st.sampled_from(["", ":8080", ":0", ":99999", ":"]),
        st.text(alphabet=_CHARS, max_size=30).map(lambda t: "/" + t if t else t),
        st.one_of(st.just(""), st.text(alphabet=_CHARS, max_size=20).map(lambda t: "?" + t)),
        st.sampled_from(["", "#", "#frag"])),
    st.text(alphabet=_CHARS, max_size=40),
)


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_PLAIN_URL", NEVER)


@settings(max_examples=400, deadline=None)
@given(url=urls)
def test_split_query_and_redact_url_are_the_same_on_both_paths(url: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        _slow(patch)
        try:
            want_split: object = redact.split_query(url)
        except ValueError as exc:             # urlsplit refuses it (e.g. a bad port)
            want_split = type(exc)
        want_shown = redact.redact_url(url)
    try:
        got_split: object = redact.split_query(url)
    except ValueError as exc:
        got_split = type(exc)
    assert got_split == want_split
    assert redact.redact_url(url) == want_shown


@pytest.mark.parametrize("url", [
    "https://cdn.gen.pro/outputs/render_56068.mp4",
    "https://cdn.gen.pro/outputs/render_56068.mp4?X-Amz-Signature=abc&X-Amz-Expires=60",
    "http://127.0.0.1:8123/proxy/f0001.bin",
])
def test_cdn_urls_take_the_fast_path(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With urlsplit unusable, the URLs a CDN hands out are still split, recorded and shown:
    the fast path carries them (and gives what urlsplit gives, checked above)."""
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("urlsplit was called")

    base = url.partition("?")[0]
    query = url.partition("?")[2]
    monkeypatch.setattr(urllib.parse, "urlsplit", refuse)
    assert redact.split_query(url) == (base, query)
    assert split_url(url)[0] == base
    record = record_for("a.mp4", url, 1, "0" * 64, etag=None, last_modified=None)
    assert record.source_url == base and record.same_source(url)
    if not query:
        assert redact.redact_url(url) == url


def test_records_keep_no_secret_and_tell_queries_apart() -> None:
    signed = "https://u:pw@cdn.gen.pro/a.mp4?sig=1"
    record = record_for("a.mp4", signed, 1, "0" * 64, etag=None, last_modified=None)
    assert record.source_url == "https://cdn.gen.pro/a.mp4"
    assert record.same_source(signed)
    assert not record.same_source("https://cdn.gen.pro/a.mp4?sig=2")
    assert not record.same_source("https://cdn.gen.pro/a.mp4")
    assert record_for("sub//./b.mp4", signed, 1, "0" * 64, etag=None,
                      last_modified=None).path == "sub/b.mp4"
