"""Pure transfer decisions: names, targets, headers, resume/skip/split rules (no I/O)."""

from __future__ import annotations

import base64
import hashlib
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gen_nb.transfer.headers import (
    parse_content_range,
    server_digests,
    split_url,
    strong_validator,
)
from gen_nb.transfer.plan import (
    Target,
    classify_response,
    decide_existing,
    file_name_for,
    plan_resume,
    resolve_target,
    sanitize_file_name,
    split_ranges,
    unique_paths,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("clip.mp4", "clip.mp4"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("..\\..\\windows\\system32", "_.._windows_system32"),
    ("..", "download.bin"),
    (".", "download.bin"),
    ("", "download.bin"),
    (None, "download.bin"),
    (".bashrc", "bashrc"),
    ("  .hidden. ", "hidden"),
    ("a\x00b\x1fc\x7f.mp4", "abc.mp4"),
    ("con", "_con"),
    ("LPT1.txt", "_LPT1.txt"),
    ('what?<>:"|*.mp4', "what_______.mp4"),
    ("video.mp4.part", "video.mp4.part_"),
    ("video.mp4.lock", "video.mp4.lock_"),
    ("\u202egnp.exe", "gnp.exe"),
])
def test_sanitize_file_name(raw: str | None, expected: str) -> None:
    assert sanitize_file_name(raw) == expected


def test_sanitize_keeps_extension_when_cutting_long_names() -> None:
    name = sanitize_file_name("é" * 300 + ".mp4")
    assert name.endswith(".mp4")
    assert len(name.encode("utf-8")) <= 200


@pytest.mark.parametrize(("url", "hint", "expected"), [
    ("https://cdn.x/outputs/My%20Clip.mp4?sig=1", None, "My Clip.mp4"),
    ("https://cdn.x/a/..%2F..%2Fetc%2Fpasswd", None, "_.._etc_passwd"),
    ("https://cdn.x/a/%2E%2E", None, "download.bin"),
    ("https://cdn.x/a/%252F", None, "%2F"),
    ("https://cdn.x/", None, "download.bin"),
    ("https://cdn.x/x.mp4", "../Nice name.mp4", "_Nice name.mp4"),
    ("https://cdn.x/x.mp4", "  ", "x.mp4"),
])
def test_file_name_for(url: str, hint: str | None, expected: str) -> None:
    assert file_name_for(url, hint) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_no_name_can_leave_the_folder(text: str) -> None:
    folder = Path("/srv/downloads")
    for candidate in (sanitize_file_name(text), file_name_for(f"https://cdn.x/p/{text}"),
                      file_name_for("https://cdn.x/p/" + "".join(f"%{b:02X}" for b in
                                                                  text.encode()))):
        target = resolve_target(folder, candidate, dest_is_dir=True, default_dir="unused")
        assert target.path.parent == folder
        assert candidate not in ("", ".", "..")
        assert "/" not in candidate and "\\" not in candidate and "\x00" not in candidate


def test_resolve_target_folder_file_and_default() -> None:
    assert resolve_target(None, "a.mp4", dest_is_dir=False, default_dir="d").path == \
        Path("d/a.mp4")
    assert resolve_target("out/", "a.mp4", dest_is_dir=False, default_dir="d").path == \
        Path("out/a.mp4")
    assert resolve_target("out", "a.mp4", dest_is_dir=True, default_dir="d").path == \
        Path("out/a.mp4")
    assert resolve_target("new_dir", "a.mp4", dest_is_dir=False, default_dir="d").path == \
        Path("new_dir/a.mp4")
    assert resolve_target("x/file.bin", "a.mp4", dest_is_dir=True, default_dir="d").path == \
        Path("x/file.bin/a.mp4")
    assert resolve_target("out/b.mp4", "a.mp4", dest_is_dir=False, default_dir="d").path == \
        Path("out/b.mp4")
    target = Target(Path("x/clip.mp4"))
    assert (target.part.name, target.sidecar.name, target.lock.name) == \
        ("clip.mp4.part", "clip.mp4.part.json", "clip.mp4.lock")


def test_unique_paths() -> None:
    assert unique_paths(["a.mp4", "A.mp4", "a.mp4", "b"], ["1", "2", "1", "3"]) == \
        ["a.mp4", "A-2.mp4", "a.mp4", "b"]
    assert unique_paths(["x", "x"], ["1", "2"]) == ["x", "x-2"]


def test_split_url_hides_the_query() -> None:
    base, query = split_url("https://s3.x/b/k.mp4?X-Amz-Signature=secret")
    assert base == "https://s3.x/b/k.mp4"
    assert query and "secret" not in query
    assert split_url("https://s3.x/b/k.mp4")[1] is None


@pytest.mark.parametrize(("value", "expected"), [
    ("bytes 0-99/1000", (0, 99, 1000)),
    ("bytes */1000", (None, None, 1000)),
    ("bytes 5-9/*", (5, 9, None)),
    ("BYTES 1-1/2", (1, 1, 2)),
    ("bytes 9-5/10", None),
    ("items 0-1/2", None),
    (None, None),
])
def test_parse_content_range(value: str | None, expected: tuple | None) -> None:
    got = parse_content_range(value)
    assert (None if got is None else (got.start, got.end, got.total)) == expected


def test_strong_validator_prefers_strong_etag() -> None:
    assert strong_validator('"a"', "Mon") == '"a"'
    assert strong_validator('W/"a"', "Mon") == "Mon"
    assert strong_validator(None, None) is None


def test_server_digests_all_spellings() -> None:
    raw = hashlib.sha256(b"x").digest()
    md5 = hashlib.md5(b"x").digest()
    b64, md5_b64 = base64.b64encode(raw).decode(), base64.b64encode(md5).decode()
    assert server_digests({"Repr-Digest": f"sha-256=:{b64}:"}) == {"sha256": raw.hex()}
    assert server_digests({"Digest": f"SHA-256={b64}"}) == {"sha256": raw.hex()}
    assert server_digests({"x-amz-checksum-sha256": b64}) == {"sha256": raw.hex()}
    assert server_digests({"x-goog-hash": f"crc32c=AAAAAA==, md5={md5_b64}"}) == \
        {"md5": md5.hex()}
    assert server_digests({"Content-MD5": md5_b64}, 206) == {}
    assert server_digests({"Content-MD5": md5_b64}, 200) == {"md5": md5.hex()}
    assert server_digests({"Repr-Digest": "sha-256=:bm90IGEgZGlnZXN0:"}) == {}
    assert server_digests({"Content-Digest": f"sha-256=:{b64}:"}) == {}


@pytest.mark.parametrize(("requested", "status", "headers", "known", "kind", "offset"), [
    (0, 200, {"Content-Length": "10"}, {}, "body", 0),
    (5, 200, {"Content-Length": "10"}, {}, "body", 0),
    (5, 206, {"Content-Range": "bytes 5-9/10"}, {}, "body", 5),
    (5, 206, {"Content-Range": "bytes 4-9/10"}, {}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-9/12"}, {"known_total": 10}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-9/10", "ETag": '"b"'}, {"known_etag": '"a"'},
     "restart", 0),
    (5, 206, {}, {}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-7/10"}, {"end": 8}, "body", 5),
    (5, 206, {"Content-Range": "bytes 5-9/10"}, {"end": 8}, "restart", 0),
    # a 206 must say the file's size, and stay inside it
    (5, 206, {"Content-Range": "bytes 5-9/*"}, {}, "restart", 0),
    (0, 206, {"Content-Range": "bytes 0-9/*"}, {}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-12/10"}, {}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-8/10"}, {}, "restart", 0),
    # a resumed answer must carry the validators recorded (If-Range may be ignored)
    (5, 206, {"Content-Range": "bytes 5-9/10"}, {"known_etag": '"a"'}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-9/10", "ETag": '"a"'}, {"known_etag": '"a"'},
     "body", 5),
    (5, 206, {"Content-Range": "bytes 5-9/10", "Last-Modified": "Tue"},
     {"known_last_modified": "Mon"}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-9/10"}, {"known_last_modified": "Mon"}, "restart", 0),
    (5, 206, {"Content-Range": "bytes 5-9/10", "Last-Modified": "Mon"},
     {"known_last_modified": "Mon"}, "body", 5),
    (10, 416, {"Content-Range": "bytes */10"}, {"known_total": 10}, "complete", 10),
    (10, 416, {"Content-Range": "bytes */12"}, {}, "restart", 0),
    (0, 429, {}, {}, "retry", 0),
    (3, 503, {}, {}, "retry", 3),
    (0, 404, {}, {}, "fail", 0),
    (0, 403, {}, {}, "fail", 0),
])
def test_classify_response(requested: int, status: int, headers: dict, known: dict,
                           kind: str, offset: int) -> None:
    answer = classify_response(requested, status, headers, **known)
    assert (answer.kind, answer.offset) == (kind, offset)


def test_a_gzip_body_has_no_trusted_length() -> None:
    answer = classify_response(0, 200, {"Content-Length": "10", "Content-Encoding": "gzip"})
    assert answer.total is None


@pytest.mark.parametrize(("args", "offset"), [
    ((None, None, "https://c/x", None, None), 0),
    ((0, ("https://c/x", None), "https://c/x", 10, '"e"'), 0),
    ((5, None, "https://c/x", 10, '"e"'), 0),
    ((5, ("https://c/y", None), "https://c/x", 10, '"e"'), 0),
    ((5, ("https://c/x", None), "https://c/x", 10, None), 0),
    ((11, ("https://c/x", None), "https://c/x", 10, '"e"'), 0),
    ((5, ("https://c/x", None), "https://c/x", 10, '"e"'), 5),
    ((5, ("https://c/x", None), "https://c/x", None, "Mon"), 5),
    ((5, ("https://c/x", "q1"), "https://c/x?sig=2", 10, '"e"'), 5),
])
def test_plan_resume(args: tuple, offset: int) -> None:
    assert plan_resume(*args).offset == offset


def test_split_ranges_cover_everything_once() -> None:
    for total in (1, 2, 7, 1000, 12345):
        for count in (1, 2, 3, 4, 8):
            ranges = split_ranges(0, total, count, min_size=1)
            assert ranges[0][0] == 0 and ranges[-1][1] == total
            assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
            assert len(ranges) == min(count, total)
    assert split_ranges(100, 100, 4) == []
    assert split_ranges(0, 3 << 20, 8) == [(0, 1 << 20), (1 << 20, 2 << 20), (2 << 20, 3 << 20)]


# decide_existing(size, sha256, record_size, record_sha256, same_source, remote_total,
#                 remote_validator, record_validator, server_sha256, overwrite)
@pytest.mark.parametrize(("args", "action"), [
    ((10, "s", 10, "s", True, 10, '"a"', '"a"', None, False), "skip"),      # gen_nb's record
    ((10, "s", 10, "s", True, None, '"a"', '"a"', None, False), "skip"),
    ((10, "s", 10, "s", True, 10, '"b"', '"a"', None, False), "conflict"),  # server changed
    ((10, "s", 10, "s", True, 10, '"b"', '"a"', None, True), "download"),
    ((10, "x", 10, "s", True, 10, '"a"', '"a"', None, False), "conflict"),  # file changed
    ((10, "s", 10, "s", False, 10, '"a"', '"a"', None, False), "conflict"),  # other source
    ((10, None, None, None, False, 10, '"a"', None, None, False), "conflict"),  # size alone
    ((10, None, None, None, False, 10, '"a"', None, None, True), "download"),
    ((10, "d", None, None, False, 10, '"a"', None, "d", False), "skip"),     # server digest
    ((10, "e", None, None, False, 10, '"a"', None, "d", False), "conflict"),
    ((10, None, None, None, False, None, None, None, None, False), "conflict"),
])
def test_decide_existing(args: tuple, action: str) -> None:
    assert decide_existing(*args)[0] == action


def test_unique_paths_skips_numbers_other_paths_took_and_stays_distinct() -> None:
    assert unique_paths(["a.mp4", "a-2.mp4", "a.mp4", "a.mp4"], ["1", "2", "3", "4"]) == \
        ["a.mp4", "a-2.mp4", "a-3.mp4", "a-4.mp4"]
    many = unique_paths(["vo.mp3"] * 500, [str(i) for i in range(500)])
    assert len({p.lower() for p in many}) == 500 and many[-1] == "vo-500.mp3"
