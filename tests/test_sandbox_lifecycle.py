"""Starting and stopping a sandbox: one acceptor thread, and stop() cuts everything loose."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from gen_nb import sandbox


def _sandbox_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("gen_nb-sandbox")
            and t.name != "gen_nb-sandbox-md5"]


def test_one_acceptor_thread_serves_all_three_servers() -> None:
    before = len(_sandbox_threads())
    with sandbox.start() as sb:
        assert len(_sandbox_threads()) == before + 1
        for base in (sb.api_base + "/schedule/platforms", sb.large_media_url(10),
                     sb.storage_url("x.bin", method="GET")):
            assert requests.get(base, timeout=10).status_code in (200, 404)
    assert len(_sandbox_threads()) == before


def test_stop_drops_a_stalled_download_and_deletes_uploads() -> None:
    sb = sandbox.start()
    url = sb.large_media_url(1 << 20, name="stalled.bin")
    sb.inject("cdn", stall_after=1000, stall_seconds=60)
    assert requests.put(sb.storage_put_url("kept.bin"), data=b"abc", timeout=10).ok
    folder = sb.storage_object("kept.bin").path.parent
    errors: list[BaseException] = []

    def download() -> None:
        try:
            requests.get(url, timeout=30).raise_for_status()
        except requests.RequestException as exc:
            errors.append(exc)

    client = threading.Thread(target=download)
    client.start()
    deadline = time.monotonic() + 10
    while not any(r.bytes_sent for r in sb.requests if r.server == "cdn"):
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.01)
    sb.stop()
    client.join(timeout=10)
    assert not client.is_alive() and errors, "stop() left the stalled connection open"
    assert not folder.exists()


def test_stop_is_idempotent_and_safe_before_start() -> None:
    never = sandbox.Sandbox()
    never.stop()
    assert "stopped" in repr(never)
    sb = sandbox.start()
    url = sb.url
    sb.stop()
    sb.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + "/v1/schedule/platforms", timeout=5)


def test_a_stopped_sandbox_can_start_again() -> None:
    sb = sandbox.start()
    sb.stop()
    try:
        sb.start()
        resp = requests.get(sb.api_base + "/schedule/platforms", timeout=10)
        assert resp.status_code == 200 and "running" in repr(sb)
    finally:
        sb.stop()


def test_banner_names_everything_serve_prints() -> None:
    with sandbox.start() as sb:
        text = sandbox.banner(sb)
    for value in (sb.api_base, sb.cdn_base, sb.storage_base, sb.api_key, sb.agent_id, "curl"):
        assert value in text
