"""Against servers that lie (tests/adversary.py): no wrong file saved, no call without an end.

Each test names the class of failure of the trust issue it guards:
integrity (a 206 without a total, a resume across versions, a close-delimited cut),
bounded time (trickles, silence), bounded memory (endless bodies, huge answers),
the key (echoed in escapes), and writes outside dest (planted hard links).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from adversary import Conn, LyingServer, Request

import gen_nb
from gen_nb.api.errors import (
    CallTimeout,
    GenError,
    IntegrityError,
    TransferError,
    TransferTimeout,
    UnexpectedResponseError,
)

V1 = bytes(range(256)) * 40           # 10,240 bytes
V2 = bytes(reversed(range(256))) * 40  # same size, other bytes
KEY = "gen_pat_adversary_SECRET42"


@pytest.fixture()
def server():
    with LyingServer() as srv:
        yield srv


def _range_start(request: Request) -> int:
    value = request.header("range") or ""
    return int(value.split("=")[1].split("-")[0]) if value.startswith("bytes=") else 0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- integrity ----------------------------------------------------------------------------------

def test_a_206_whose_total_is_a_star_is_never_taken_as_the_file(server, tmp_path,
                                                                fast_transfer_retries) -> None:
    @server.route("/star.bin")
    def star(request: Request, conn: Conn) -> None:
        conn.answer(206, V1, {"Content-Range": f"bytes 0-{len(V1) - 1}/*"})

    with pytest.raises(IntegrityError, match=r"keeps changing|ignoring ranges"):
        gen_nb.download(server.url("/star.bin"), tmp_path, progress=False)
    assert not (tmp_path / "star.bin").exists()


@pytest.mark.parametrize("validators", ["last_modified", "etag_dropped"])
def test_a_resume_is_never_spliced_from_two_versions(server, tmp_path, validators: str,
                                                     fast_transfer_retries) -> None:
    """The server ignores If-Range; its 206 carries other validators: start over, never splice."""
    state = {"version": 1}

    @server.route("/v.bin")
    def versions(request: Request, conn: Conn) -> None:
        data = V1 if state["version"] == 1 else V2
        headers = {"Last-Modified": f"Tue, 0{state['version']} Dec 2026 10:00:00 GMT"}
        if validators == "etag_dropped" and state["version"] == 1:
            headers["ETag"] = '"v1"'
        start = _range_start(request)
        if state["version"] == 1:               # first attempt: cut after 4,000 bytes
            conn.head(200, {"Content-Length": str(len(data)), **headers})
            conn.write(data[:4000])
            state["version"] = 2
            return
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            conn.answer(206, data[start:], headers)
        else:
            conn.answer(200, data, headers)

    result = gen_nb.download(server.url("/v.bin"), tmp_path, progress=False)
    assert (tmp_path / "v.bin").read_bytes() == V2 and result.sha256 == _sha(V2)


def test_a_close_delimited_body_says_its_size_was_never_known(server, tmp_path) -> None:
    @server.route("/nolen.bin")
    def nolen(request: Request, conn: Conn) -> None:
        conn.head(200, {})
        conn.write(V1[:5000])             # cut short, and nothing says how long it was

    result = gen_nb.download(server.url("/nolen.bin"), tmp_path, progress=False)
    assert result.size_verified is False and result.bytes == 5000


def test_a_body_ending_before_its_known_size_is_retried(server, tmp_path,
                                                        fast_transfer_retries) -> None:
    cuts = [3000, 7000]

    @server.route("/short.bin")
    def short(request: Request, conn: Conn) -> None:
        start = _range_start(request)
        headers = {"ETag": '"s"', "Content-Length": str(len(V1) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(V1) - 1}/{len(V1)}"
        conn.head(206 if start else 200, headers)
        end = cuts.pop(0) if cuts else len(V1)
        conn.write(V1[start:end])

    result = gen_nb.download(server.url("/short.bin"), tmp_path, progress=False)
    assert result.sha256 == _sha(V1) and result.size_verified and result.attempts == 3


# --- bounded time ---------------------------------------------------------------------------------

def _trickler(server: LyingServer, path: str, every: float, length: bool = True) -> None:
    @server.route(path)
    def trickle(request: Request, conn: Conn) -> None:
        conn.head(200, {"Content-Length": str(len(V1))} if length else {})
        conn.trickle(V1, every)


def test_a_trickle_cannot_outlast_the_deadline(server, tmp_path) -> None:
    _trickler(server, "/slow.bin", every=0.2)
    started = time.monotonic()
    with pytest.raises(TransferTimeout, match="deadline of 2 s"):
        gen_nb.download(server.url("/slow.bin"), tmp_path, progress=False, deadline=2,
                        stall_bytes=1)
    assert time.monotonic() - started < 4


def test_a_trickle_is_a_stall_and_earns_no_fresh_retries(server, tmp_path,
                                                         fast_transfer_retries) -> None:
    _trickler(server, "/stall.bin", every=0.1)
    started = time.monotonic()
    with pytest.raises(TransferError, match="stalled"):
        gen_nb.download(server.url("/stall.bin"), tmp_path, progress=False, retries=2,
                        stall_window=0.5, stall_bytes=1024)
    assert time.monotonic() - started < 6
    assert len(server.requests) == 3          # the first try and two retries, no more


def test_stream_to_has_the_same_deadline(server) -> None:
    _trickler(server, "/slow.bin", every=0.2)

    @server.route("/put")
    def put(request: Request, conn: Conn) -> None:
        conn.answer(200, b"")

    with pytest.raises(TransferTimeout):
        gen_nb.stream_to(server.url("/slow.bin"), server.url("/put"), progress=False,
                         deadline=1.5, stall_bytes=1)


@pytest.mark.parametrize("fault", ["silent", "trickle"])
def test_api_calls_have_a_total_deadline(server, fault: str) -> None:
    @server.route("/v1/generations/1")
    def answer(request: Request, conn: Conn) -> None:
        if fault == "silent":
            conn.hang()
        else:
            body = json.dumps({"id": 1, "status": "completed"}).encode() + b" " * 400
            conn.head(200, {"Content-Length": str(len(body)),
                            "Content-Type": "application/json"})
            conn.trickle(body, 0.05)

    client = gen_nb.connect(KEY, agent_id="1", base_url=server.url("/v1"), deadline=1.5,
                            timeout=30)
    started = time.monotonic()
    with client, pytest.raises(CallTimeout, match=r"deadline of 1\.5 s"):
        client.generation(1)
    assert time.monotonic() - started < 3.5


# --- bounded memory -------------------------------------------------------------------------------

def test_a_body_without_length_is_capped(server, tmp_path) -> None:
    @server.route("/endless.bin")
    def endless(request: Request, conn: Conn) -> None:
        conn.head(200, {})
        block = b"x" * 65536
        while not conn.stop.is_set() and len(conn.sent) < 10_000:
            conn.write(block)

    with pytest.raises(TransferError, match="limit for such bodies"):
        gen_nb.download(server.url("/endless.bin"), tmp_path, progress=False,
                        max_unknown_size=2 << 20)
    part = tmp_path / "endless.bin.part"
    assert not (tmp_path / "endless.bin").exists() and (not part.exists()
                                                        or part.stat().st_size == 0)


@pytest.mark.parametrize("framing", ["declared", "close-delimited"])
def test_a_huge_api_answer_is_refused_without_reading_it_whole(server, framing: str) -> None:
    @server.route("/v1/generations/1")
    def huge(request: Request, conn: Conn) -> None:
        if framing == "declared":
            conn.head(200, {"Content-Length": str(1 << 30), "Content-Type": "application/json"})
            conn.write(b"[" * 1000)
            return
        conn.head(200, {"Content-Type": "application/json"})
        while not conn.stop.is_set() and len(conn.sent) < 400:
            conn.write(b"[" * 65536)

    client = gen_nb.connect(KEY, agent_id="1", base_url=server.url("/v1"))
    client._api.settings = client.settings.__class__(**{**client.settings.__dict__,
                                                        "max_answer_bytes": 1 << 20})
    with client, pytest.raises(UnexpectedResponseError, match=r"larger than 1,048,576"):
        client.generation(1)


# --- the key -----------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["json-escaped", "percent", "html", "plain-jwt"])
def test_an_echoed_key_never_surfaces_however_it_is_escaped(server, spelling: str) -> None:
    key = KEY if spelling != "plain-jwt" else "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln"
    escaped = {
        "json-escaped": "\\u0067" + key[1:],
        "percent": key.replace("_", "%5F"),
        "html": key.replace("_", "&#95;"),
        "plain-jwt": key,
    }[spelling]

    @server.route("/v1/generations/1")
    def echo(request: Request, conn: Conn) -> None:
        body = ('{"error": "key ' + escaped + ' is not valid", "error_code": "unauthorized",'
                ' "detail": {"sent": "' + escaped + '"}}').encode()
        conn.answer(401, body, {"Content-Type": "application/json"})

    with gen_nb.connect(key, agent_id="1", base_url=server.url("/v1")) as client, \
            pytest.raises(GenError) as info:
        client.generation(1)
    error = info.value
    for text in (str(error), repr(error), error.server_message or "",
                 json.dumps(error.body)):
        assert key not in text and escaped not in text, text


# --- writes outside dest ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["h.bin.part", "h.bin.lock"])
def test_a_planted_hard_link_is_never_written_through(server, tmp_path, name: str) -> None:
    @server.route("/h.bin")
    def body(request: Request, conn: Conn) -> None:
        conn.answer(200, V1, {"ETag": '"h"'})

    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    dest = tmp_path / "dest"
    dest.mkdir()
    os.link(outside, dest / name)
    with pytest.raises(TransferError, match="hard links"):
        gen_nb.download(server.url("/h.bin"), dest, progress=False)
    assert outside.read_bytes() == b"precious"


def test_destination_problems_are_transfer_errors_with_advice(server, tmp_path) -> None:
    @server.route("/d.bin")
    def body(request: Request, conn: Conn) -> None:
        conn.answer(200, V1)

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TransferError, match=r"folder is expected|choose another"):
        gen_nb.download(server.url("/d.bin"), blocker / "sub" / "d.bin", progress=False)
    assert Path(blocker).read_text() == "x"


@pytest.fixture()
def read_only_folder(tmp_path: Path):
    """A folder gen_nb cannot write to: a read-only tmpfs as root (root ignores chmod)."""
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr!r}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_folder_is_a_transfer_error_with_advice(server, read_only_folder) -> None:
    @server.route("/ro.bin")
    def body(request: Request, conn: Conn) -> None:
        conn.answer(200, V1)

    with pytest.raises(TransferError, match=r"read-only|may not write") as info:
        gen_nb.download(server.url("/ro.bin"), read_only_folder, progress=False)
    assert "choose" in str(info.value) and isinstance(info.value, GenError)


def test_userinfo_is_never_stored_shown_or_logged(server, tmp_path, caplog,
                                                  fast_transfer_retries) -> None:
    cut = [4000]

    @server.route("/u.bin")
    def body(request: Request, conn: Conn) -> None:
        start = _range_start(request)
        headers = {"ETag": '"u"', "Content-Length": str(len(V1) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(V1) - 1}/{len(V1)}"
        conn.head(206 if start else 200, headers)
        conn.write(V1[start:cut.pop() if cut else len(V1)])

    url = f"http://alice:hunter2@127.0.0.1:{server.port}/u.bin?X-Amz-Signature=s3cr3t"
    with caplog.at_level("DEBUG", logger="gen_nb"):
        result = gen_nb.download(url, tmp_path, progress=False)
    stored = "".join(p.read_text() for p in tmp_path.iterdir() if p.suffix != ".bin")
    for text in (stored, caplog.text, repr(result)):
        assert "hunter2" not in text and "alice" not in text and "s3cr3t" not in text
