"""What each ``gen-nb`` command does (see :mod:`gen_nb.cli` for the overview and exit codes)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from gen_nb.cli.parser import build_parser

__all__ = ["EXIT_AUTH", "EXIT_CANCELLED", "EXIT_FAILED", "EXIT_NOT_CONFIRMED", "EXIT_NOT_FOUND",
           "EXIT_OK", "EXIT_USAGE", "exit_code", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
EXIT_NOT_CONFIRMED = 5
EXIT_CANCELLED = 130


class NotConfirmed(Exception):
    """A destructive or public action did not get the yes it needs."""


def _say(text: str) -> None:
    print(f"gen-nb: {text}", file=sys.stderr, flush=True)


def _client(args: Any) -> Any:
    """The real API (a key is required) or, with --sandbox, the local sandbox (said so)."""
    import gen_nb
    from gen_nb.api.errors import ConfigError

    if args.sandbox:
        client = gen_nb.connect(sandbox=True, quiet=True)
        _say(f"using the local sandbox at {client.sandbox.api_base} (--sandbox)")
        return client
    try:
        return gen_nb.connect(sandbox=False)
    except ConfigError as exc:
        if "No API key" not in str(exc):
            raise
        raise ConfigError("GEN_API_KEY is missing: set it to your GEN personal access token "
                          "(gen_pat_…), and GEN_AGENT_ID to your agent; or pass --sandbox "
                          "before the command to try the local sandbox.") from None


def _source(args: Any, text: str) -> Any:
    """A URL as is; anything else is a render id looked up through the API."""
    if text.lower().startswith(("http://", "https://")):
        return text
    return _client(args).render(text)


def _bar(args: Any, label: str) -> Any:
    from gen_nb.api.settings import TransferOptions
    from gen_nb.transfer.progress import make_bar

    if getattr(args, "no_progress", False) or not TransferOptions.from_env().progress:
        return False
    return make_bar(label, file=sys.stderr, leave=False)


def _run_cancellable(work: Callable[[threading.Event], Any]) -> Any:
    """Run ``work(cancel)`` on a thread; Ctrl-C sets ``cancel`` and waits for it to stop."""
    cancel = threading.Event()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work(cancel)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="gen-nb-work", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        _say("cancelling…")
        thread.join()
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def _with_bar(args: Any, label: str, work: Callable[[Any, threading.Event], Any]) -> Any:
    bar = _bar(args, label)
    try:
        return _run_cancellable(lambda cancel: work(bar, cancel))
    finally:
        if bar is not False:
            bar.close()


def _json(value: Any) -> str:
    data = dataclasses.asdict(value) if dataclasses.is_dataclass(value) and \
        not isinstance(value, type) else value
    if isinstance(data, dict) and isinstance(getattr(type(value), "state", None), property):
        data["state"] = value.state          # a post's overall state, for scripts
    return json.dumps(data, default=str)


def _confirm(args: Any, question: str) -> None:
    """Ask on a terminal; refuse when there is no one to ask. The sandbox asks too: what a
    demo teaches is what the real API will do."""
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise NotConfirmed(f"{question} — not confirmed: no terminal to ask on. Pass --yes to "
                           "go ahead in a script.")
    answer = input(f"{question} Type yes to go ahead: ").strip().lower()
    if answer != "yes":
        raise NotConfirmed("not confirmed; nothing was done.")


# --- commands ------------------------------------------------------------------------------------

def cmd_renders(args: Any) -> int:
    import gen_nb

    with _client(args) as client:
        renders = client.renders(args.engine, status=None if not args.status or
                                 "all" in args.status else args.status)
    frame = gen_nb.renders_frame(renders)
    if args.since:
        from gen_nb.export.selection import Filters

        since = Filters.build(status="all", since=args.since).since
        frame = frame[frame["created_at"] >= since]
    if args.json:
        print(frame.to_json(orient="records", date_format="iso"))
    elif args.csv:
        print(frame.to_csv(index=False), end="")
    else:
        columns = ["render_id", "engine", "take", "status", "title", "url"]
        print(frame[columns].to_string(index=False, na_rep="–"))
    return EXIT_OK


def cmd_download(args: Any) -> int:
    from gen_nb.transfer import download
    from gen_nb.transfer.downloader import expected_digest

    expected = expected_digest(args.sha256, "--sha256")      # before any request
    src = _source(args, args.source)
    result = _with_bar(args, "download", lambda bar, cancel: download(
        src, args.output, overwrite=args.overwrite, segments=args.segments, progress=bar,
        cancel=cancel, expected_sha256=expected))
    what = "already there" if result.skipped else f"{result.bytes:,} bytes"
    _say(f"{result.path} ({what}, sha256 {result.sha256})")
    print(_json(result) if args.json else str(result.path))
    return EXIT_OK


def cmd_stream(args: Any) -> int:
    from gen_nb.api.errors import UsageError
    from gen_nb.transfer import stream_to

    headers = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header must look like 'Name: value', got {item!r}")
        headers[name.strip()] = value.strip()
    src = _source(args, args.source)
    result = _with_bar(args, "stream", lambda bar, cancel: stream_to(
        src, args.dest, method=args.method, headers=headers, progress=bar, cancel=cancel,
        storage_options=dict(args.storage_option) or None))
    _say(f"sent {result.bytes:,} bytes to {result.dest} (sha256 {result.sha256})")
    print(_json(result) if args.json else str(result.status))
    return EXIT_OK


def cmd_export(args: Any) -> int:
    import gen_nb

    kwargs: dict[str, Any] = dict(
        status="all" if args.status and "all" in args.status else (args.status or "completed"),
        engines=args.engine, since=args.since, layers=args.layers, dry_run=args.dry_run,
        verify=args.verify, max_workers=args.workers,
        storage_options=dict(args.storage_option) or None)
    if args.name:
        kwargs["name"] = args.name
    with _client(args) as client, _dask(args.dask) as executor:
        report = _with_bar(args, "export", lambda bar, cancel: gen_nb.export(
            client, args.dest, progress=bar, cancel=cancel, executor=executor, **kwargs))
    _say(report.summary())
    for result in report:
        if result.status == "failed":
            _say(f"failed: {result.path}: {result.error}")
    print(report.to_json() if args.json else "\n".join(
        f"{r.status}\t{r.path}" for r in report))
    return EXIT_OK if report.ok else EXIT_FAILED


@contextlib.contextmanager
def _dask(address: str | None) -> Any:
    if address is None:
        yield None
        return
    from gen_nb.transfer.on_dask import distributed_module

    with distributed_module().Client(address) as dask_client:
        yield dask_client


def cmd_publish(args: Any) -> int:
    with _client(args) as client:
        src = args.source if args.source.lower().startswith(("http://", "https://")) \
            else client.render(args.source)
        when = args.when if args.when in ("now", "next_available") else "specific_time"
        problems = client.check_post(args.platform, description=args.caption,
                                     title=args.title, media_url=getattr(src, "url", src))
        if problems:
            from gen_nb.api.errors import PlatformRuleError

            raise PlatformRuleError(problems)
        _confirm(args, f"Publish {getattr(src, 'url', src)} to "
                 f"{', '.join(args.platform)} for everyone to see?")
        post = client.publish(src, args.platform, description=args.caption, title=args.title,
                              schedule_type=when,
                              scheduled_time=args.when if when == "specific_time" else None)
        if args.wait:
            post = client.wait_post(post.id)
    _say(f"post {post.id}: {post.state}")
    print(_json(post) if args.json else post.id)
    return EXIT_OK if post.state != "failed" else EXIT_FAILED


def cmd_delete(args: Any) -> int:
    with _client(args) as client:
        rid = args.target
        if args.render:
            rid = client.render(args.target).output_resource_id
            if not rid:
                from gen_nb.api.errors import UsageError

                raise UsageError(f"render {args.target} has no stored file to delete.")
        plan = client.delete_resource(rid, dry_run=True)
        for line in _plan_text(plan):
            _say(line)
        if args.dry_run:
            print(_json(plan) if args.json else plan.resource_id)
            return EXIT_OK
        _confirm(args, f"Delete content resource {plan.resource_id} for good?")
        done = client.delete_resource(rid, confirm=True, plan=plan)
    _say(f"deleted content resource {done.resource_id}")
    print(_json(done) if args.json else done.resource_id)
    return EXIT_OK


def _plan_text(plan: Any) -> list[str]:
    lines = [f"would delete content resource {plan.resource_id} ({plan.file_name or plan.url})"]
    lines += [f"  {k.replace('_', ' ')}: {v}" for k, v in plan.would_destroy.items()
              if k != "urls"]
    lines += [f"  ! {w}" for w in plan.warnings]
    return lines


def cmd_sandbox(args: Any) -> int:
    from gen_nb import sandbox

    with contextlib.suppress(KeyboardInterrupt):   # Ctrl-C is how it is stopped
        sandbox.serve(port=args.port, fault_header=args.fault_header)
    return EXIT_OK


def cmd_app(args: Any) -> int:
    from gen_nb.app import serve_app

    return serve_app(port=args.port)


COMMANDS: dict[str, Callable[[Any], int]] = {
    "renders": cmd_renders, "download": cmd_download, "stream": cmd_stream,
    "export": cmd_export, "publish": cmd_publish, "delete": cmd_delete,
    "sandbox": cmd_sandbox, "app": cmd_app,
}


def exit_code(exc: BaseException) -> int:
    """The exit status for an error (see gen_nb.cli)."""
    from gen_nb.api.errors import (
        AuthenticationError,
        ConfigError,
        DownloadCancelled,
        NotFoundError,
        PermissionDeniedError,
        UsageError,
    )

    if isinstance(exc, KeyboardInterrupt | DownloadCancelled):
        return EXIT_CANCELLED
    if isinstance(exc, NotConfirmed):
        return EXIT_NOT_CONFIRMED
    chain = [exc, exc.__cause__]
    if any(isinstance(e, NotFoundError) for e in chain):
        return EXIT_NOT_FOUND
    if any(isinstance(e, AuthenticationError | PermissionDeniedError | ConfigError)
           for e in chain):
        return EXIT_AUTH
    if isinstance(exc, UsageError | ValueError | TypeError):
        return EXIT_USAGE
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gen-nb``; returns the exit status."""
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else None
    if level is not None:
        logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        _say("cancelled (a download keeps its .part: run the same command again to resume)")
        return EXIT_CANCELLED
    except Exception as exc:
        code = exit_code(exc)
        _say(f"error: {exc}")
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

