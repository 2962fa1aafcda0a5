"""gen_nb.local_state: downloaded (verified), exported, published and deleted, per render —
read from gen_nb's own manifests and post log, against the real sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import gen_nb
from gen_nb.local_state import POSTS_LOG, local_state, record_post


def _done(client: Any, count: int) -> list[Any]:
    found = [r for r in client.renders(status="completed") if r.url][:count]
    assert len(found) == count
    return found


def test_downloaded_exported_and_verified(client: Any, tmp_path: Path) -> None:
    a, b, c = _done(client, 3)
    downloads, exports = tmp_path / "downloads", tmp_path / "exports"
    gen_nb.download(a, downloads)
    gen_nb.download(b.url, downloads)               # a bare URL: matched by source URL
    report = gen_nb.export([c], exports, client=client, layers=False)
    assert report.ok, report.summary()
    states = local_state([a, b, c], [downloads], exports=[exports])
    assert states[a.id].is_downloaded and states[b.id].is_downloaded
    assert not states[c.id].is_downloaded and states[c.id].is_exported
    assert states[a.id].downloaded[0].where == str((downloads / Path(a.url).name).resolve())
    assert states[a.id].marks == "downloaded" and states[c.id].marks == "exported"
    (downloads / Path(a.url).name).write_bytes(b"changed")   # no longer what was recorded
    again = local_state([a], [downloads])
    assert not again[a.id].is_downloaded and again[a.id].marks == "download changed"


def test_sha256_verification_catches_same_size_changes(client: Any, tmp_path: Path) -> None:
    (a,) = _done(client, 1)
    result = gen_nb.download(a, tmp_path)
    path = Path(result.path)
    path.write_bytes(b"\0" * path.stat().st_size)
    assert local_state([a], [tmp_path])[a.id].is_downloaded
    assert not local_state([a], [tmp_path], verify="sha256")[a.id].is_downloaded


@pytest.fixture()
def own_client() -> Any:
    """A private sandbox: posting changes server state other modules must not see."""
    from gen_nb import sandbox

    handle = sandbox.start(render_seconds=1, publish_seconds=1)
    try:
        with gen_nb.connect(sandbox=handle, quiet=True) as c:
            yield c
    finally:
        handle.stop()


def test_published_from_the_post_log_and_the_posts_api(own_client: Any, tmp_path: Path) -> None:
    client = own_client
    (a,) = _done(client, 1)
    post = client.publish(a, ["tiktok"], description="from the local state test")
    record_post(tmp_path, a, post)
    final = client.wait_post(post.id, timeout=60)
    states = local_state([a], [tmp_path], client=client)
    assert states[a.id].posts[0].post_id == post.id
    assert states[a.id].posts[0].state == final.state == "published"
    assert states[a.id].published and "published" in states[a.id].marks
    assert client.settings.api_key not in (tmp_path / POSTS_LOG).read_text()


def test_deleted_and_missing_files(client: Any, tmp_path: Path) -> None:
    from gen_nb.api.models import Render

    gone = Render(id="1", status="completed")
    states = local_state([gone], [tmp_path / "nothing-here"], deleted=["1"])
    assert states["1"].deleted and states["1"].file_missing and states["1"].marks == \
        "file deleted"


def test_unreadable_places_count_as_empty(tmp_path: Path) -> None:
    from gen_nb.api.models import Render

    r = Render(id="1", status="completed", url="https://cdn.gen.pro/a.mp4")
    (tmp_path / POSTS_LOG).write_text("not json\n{}\n")
    states = local_state([r], [tmp_path], exports=["memory-nonexistent://x"])
    assert states["1"] == states["1"].__class__("1")


def test_renders_frame_shows_local_state(client, download_dir) -> None:
    import gen_nb
    from gen_nb.local_state import local_state

    done = [r for r in client.renders(status="completed") if r.url][:2]
    saved = gen_nb.download(done[0], download_dir)
    states = local_state(done, [download_dir], deleted=[done[1].id])
    frame = gen_nb.renders_frame(done, local=states)
    first, second = frame.iloc[0], frame.iloc[1]
    assert bool(first["downloaded"]) and first["downloaded_to"] == str(saved.path)
    assert not bool(second["downloaded"]) and second["file"] == "deleted"
    assert list(gen_nb.renders_frame(done).columns) == list(gen_nb.frames.RENDER_COLUMNS)
