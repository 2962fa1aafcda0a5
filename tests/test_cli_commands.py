"""gen-nb renders / export / publish / delete, as a script or a cron job runs them: against a
sandbox reached as the real API is (GEN_API_BASE_URL + key), so no sandbox shortcut applies;
no key means exit 3, never the sandbox; publish and delete refuse without a terminal or --yes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gen_nb.cli import EXIT_NOT_CONFIRMED, EXIT_OK, EXIT_USAGE, main


@pytest.fixture()
def own(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A private sandbox (these tests delete and publish), reached as the real API is."""
    from gen_nb import sandbox

    with sandbox.start(render_seconds=1.0, publish_seconds=0.3) as handle:
        monkeypatch.setenv("GEN_API_BASE_URL", handle.api_base)
        monkeypatch.setenv("GEN_API_KEY", handle.api_key)
        monkeypatch.setenv("GEN_AGENT_ID", str(handle.agent_id))
        yield handle


def _resource_with_file(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["renders", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    return str(next(r["output_resource_id"] for r in rows if r["output_resource_id"]))


def _deletes(sb: Any) -> list[str]:
    return [r.path for r in sb.requests if r.method == "DELETE"]


def test_without_a_key_it_exits_3_and_never_uses_the_sandbox(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for argv in (["renders"], ["export", str(tmp_path / "out")], ["delete", "1", "--yes"]):
        done = subprocess.run([sys.executable, "-m", "gen_nb", *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 3, (argv, done.stderr)
        assert "GEN_API_KEY is missing" in done.stderr and "--sandbox" in done.stderr
        assert done.stdout == ""
    assert not (tmp_path / "out").exists()


def test_renders_as_table_json_and_csv_with_filters(own: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["renders", "--status", "completed", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["status"] for r in rows} == {"completed"}
    assert main(["renders", "--csv"]) == EXIT_OK
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) > len(rows) and "render_id" in table[0]
    assert main(["renders"]) == EXIT_OK
    assert "render_id" in capsys.readouterr().out.splitlines()[0]


def test_export_dry_run_then_a_run_then_a_rerun_that_moves_nothing(
        own: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "export"
    assert main(["export", str(dest), "--dry-run", "--json", "--no-progress"]) == EXIT_OK
    planned = json.loads(capsys.readouterr().out)
    assert planned["dry_run"] and planned["counts"] == {"planned": len(planned["results"])}
    assert planned["bytes"] > 0 and not dest.exists()
    assert main(["export", str(dest), "--json", "--no-progress"]) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert first["counts"] == {"done": len(planned["results"])}
    cdn_before = sum(1 for r in own.requests if r.server == "cdn")
    assert main(["export", str(dest), "--json", "--no-progress"]) == EXIT_OK
    again = json.loads(capsys.readouterr().out)
    assert again["counts"] == {"skipped": len(planned["results"])}
    assert sum(1 for r in own.requests if r.server == "cdn") == cdn_before


def test_delete_refuses_without_a_terminal_and_asks_nothing_of_a_dry_run(
        own: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _resource_with_file(capsys)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))       # a script: no terminal
    assert main(["delete", rid]) == EXIT_NOT_CONFIRMED
    assert "not confirmed" in capsys.readouterr().err and _deletes(own) == []
    assert main(["delete", rid, "--dry-run"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert out.strip() == rid and "would delete" in err and _deletes(own) == []
    assert main(["delete", rid, "--yes"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == rid
    # GEN's two-phase delete: a 428 with a token, then the DELETE that carries it
    assert set(_deletes(own)) == {f"/v1/content_resources/{rid}"}
    assert [r.status for r in own.requests if r.method == "DELETE"][-1] in (200, 204)


def test_delete_asks_on_a_terminal_and_takes_only_yes(
        own: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _resource_with_file(capsys)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert main(["delete", rid]) == EXIT_NOT_CONFIRMED     # "y" is not "yes"
    assert _deletes(own) == []
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))
    assert main(["delete", rid]) == EXIT_OK
    assert set(_deletes(own)) == {f"/v1/content_resources/{rid}"}


def test_publish_checks_rules_refuses_without_yes_then_posts(
        own: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["renders", "--status", "completed", "--json"]) == EXIT_OK
    render = json.loads(capsys.readouterr().out)[0]["render_id"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    posts = [r for r in own.requests if r.method == "POST" and "with-post" in r.path]
    assert main(["publish", str(render), "--platform", "youtube", "--yes"]) == EXIT_USAGE
    assert "title" in capsys.readouterr().err.lower()           # YouTube needs one: not sent
    assert main(["publish", str(render), "--platform", "tiktok", "--caption", "hi"]) == \
        EXIT_NOT_CONFIRMED
    assert [r for r in own.requests if r.method == "POST" and "with-post" in r.path] == posts
    assert main(["publish", str(render), "--platform", "tiktok", "--caption", "hi", "--yes",
                 "--json"]) == EXIT_OK
    post = json.loads(capsys.readouterr().out)
    assert post["state"] == "published"


def test_on_the_sandbox_too_delete_and_publish_ask(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A demo on --sandbox teaches what the real API will do: no terminal, no --yes → refused."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["--sandbox", "renders", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    rid = str(next(r["output_resource_id"] for r in rows if r["output_resource_id"]))
    render = str(next(r["render_id"] for r in rows if r["status"] == "completed"))
    assert main(["--sandbox", "delete", rid]) == EXIT_NOT_CONFIRMED
    assert main(["--sandbox", "publish", render, "--platform", "tiktok", "--caption", "hi",
                 "--no-wait"]) == EXIT_NOT_CONFIRMED
    assert capsys.readouterr().err.count("not confirmed") == 2


def test_a_rerun_on_another_sandbox_moves_nothing_the_server_says_is_the_same(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each --sandbox run serves its files from new ports, so every URL differs from the
    manifest's: the ETag and size the server gives decide, not the URL; a record whose ETag
    no longer matches moves again."""
    dest = tmp_path / "export"
    assert main(["--sandbox", "export", str(dest), "--json", "--no-progress"]) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert set(first["counts"]) == {"done"}
    manifest = dest / "gen_nb-manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    changed = records[0]["path"]
    records[0]["etag"] = '"another-version"'
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    before = manifest.read_bytes()
    assert main(["--sandbox", "export", str(dest), "--dry-run", "--json", "--no-progress"]) \
        == EXIT_OK
    planned = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in planned["results"] if r["status"] == "planned"] == [changed]
    assert manifest.read_bytes() == before, "a dry run writes nothing, the manifest included"
    assert main(["--sandbox", "export", str(dest), "--json", "--no-progress"]) == EXIT_OK
    again = json.loads(capsys.readouterr().out)
    assert again["counts"] == {"skipped": first["counts"]["done"] - 1, "done": 1}
    assert [r["path"] for r in again["results"] if r["status"] == "done"] == [changed]
    latest = {json.loads(line)["path"]: json.loads(line)
              for line in manifest.read_text().splitlines()}
    ports = {r["source_url"].split("/")[2] for r in latest.values()}
    assert len(ports) == 1, "the manifest should record where each file is now"


def test_export_on_a_dask_scheduler_from_the_shell(own: Any, dask_cluster: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``gen-nb export DEST --dask ADDRESS``: the files move on the cluster's workers."""
    address = dask_cluster.scheduler.address
    dest = tmp_path / "dask"
    assert main(["export", str(dest), "--dask", address, "--no-layers", "--json",
                 "--no-progress"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"done": len(report["results"])} and report["results"]
    assert all((dest / r["path"]).is_file() for r in report["results"])
