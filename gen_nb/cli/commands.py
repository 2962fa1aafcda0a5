"""The ``gen-nb`` command (also ``python -m gen_nb``).

    gen-nb sandbox [--port N]                      run the local GEN emulator until Ctrl-C
    gen-nb download <render id | url> [-o DIR] [--segments N] [--overwrite] [--sha256 HEX]
    gen-nb stream <src render id | url> <dest url> [--method PUT|POST] [-H 'Name: value']

``download`` and ``stream`` show a progress bar on stderr (``--no-progress`` or
``GEN_NB_DISABLE_PROGRESS=1`` turn it off), print the saved path (or a JSON result with
``--json``) on stdout, and exit with a code scripts can use:

==== ===========================================================================
0    done (or the file was already there)
1    the transfer failed (network, integrity, disk full, destination refused, …)
2    usage error (bad arguments, a render without a URL yet)
3    authentication or configuration problem (bad key, missing agent id)
4    not found (unknown render id, the CDN answered 404)
130  cancelled with Ctrl-C (a download keeps its .part: run the command again to resume)
==== ===========================================================================

A render id needs a client: ``GEN_API_KEY`` (and ``GEN_AGENT_ID``) select the real API;
without a key the local sandbox is used (and said so on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["EXIT_CANCELLED", "EXIT_FAILED", "EXIT_NOT_FOUND", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
EXIT_CANCELLED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gen-nb", description="GEN renders from the shell.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what happens (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    sandbox = sub.add_parser("sandbox", help="run the local GEN emulator until Ctrl-C")
    sandbox.add_argument("--port", type=int, default=0, help="API port (default: any free)")

    download = sub.add_parser("download", help="download a render or URL (resumable)")
    download.add_argument("source", help="a render id or an http(s) URL")
    download.add_argument("-o", "--output", default=None,
                          help="folder (or file path) to save to; default $GEN_NB_DOWNLOAD_DIR "
                               "or ./downloads")
    download.add_argument("--segments", type=_positive, default=1,
                          help="parallel ranges (default 1)")
    download.add_argument("--overwrite", action="store_true",
                          help="replace a different file already there")
    download.add_argument("--sha256", default=None, help="expected sha256 of the file")
    _common(download)

    stream = sub.add_parser("stream", help="copy a render or URL to an upload URL, no disk")
    stream.add_argument("source", help="a render id or an http(s) URL")
    stream.add_argument("dest", help="the http(s) URL to PUT/POST to (e.g. presigned)")
    stream.add_argument("--method", default="PUT", choices=("PUT", "POST"))
    stream.add_argument("-H", "--header", action="append", default=[],
                        help="extra upload header 'Name: value' (repeatable)")
    _common(stream)
    return parser


def _positive(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {text!r}")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _source(text: str) -> Any:
    """A URL as is; anything else is a render id looked up through gen_nb.connect()."""
    if text.lower().startswith(("http://", "https://")):
        return text
    import gen_nb

    client = gen_nb.connect(quiet=True)
    handle = getattr(client, "sandbox", None)
    if handle is not None:
        print(f"gen-nb: no GEN_API_KEY set — using the local sandbox at {handle.url}",
              file=sys.stderr)
    return client.render(text)


def _bar(args: argparse.Namespace, label: str) -> Any:
    from gen_nb.api.settings import TransferOptions
    from gen_nb.transfer.progress import make_bar

    if args.no_progress or not TransferOptions.from_env().progress:
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

    thread = threading.Thread(target=target, name="gen-nb-transfer", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        cancel.set()
        print("\ngen-nb: cancelling…", file=sys.stderr)
        thread.join()
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def _report(args: argparse.Namespace, result: Any, line: str) -> None:
    if args.json:
        data = {k: str(v) if isinstance(v, Path) else v
                for k, v in dataclasses.asdict(result).items()}
        print(json.dumps(data))
    else:
        print(line)


def _download(args: argparse.Namespace) -> int:
    from gen_nb.transfer import download

    src = _source(args.source)
    bar = _bar(args, "download")
    try:
        result = _run_cancellable(lambda cancel: download(
            src, args.output, overwrite=args.overwrite, segments=args.segments,
            progress=bar, cancel=cancel, expected_sha256=args.sha256))
    finally:
        if bar is not False:
            bar.close()
    what = "already there" if result.skipped else f"{result.bytes:,} bytes"
    print(f"gen-nb: {result.path} ({what}, sha256 {result.sha256})", file=sys.stderr)
    _report(args, result, str(result.path))
    return EXIT_OK


def _stream(args: argparse.Namespace) -> int:
    from gen_nb.transfer import stream_to

    headers = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header must look like 'Name: value', got {item!r}")
        headers[name.strip()] = value.strip()
    src = _source(args.source)
    bar = _bar(args, "stream")
    try:
        result = _run_cancellable(lambda cancel: stream_to(
            src, args.dest, method=args.method, headers=headers, progress=bar, cancel=cancel))
    finally:
        if bar is not False:
            bar.close()
    print(f"gen-nb: sent {result.bytes:,} bytes to {result.dest} (HTTP {result.status}, "
          f"sha256 {result.sha256})", file=sys.stderr)
    _report(args, result, str(result.status))
    return EXIT_OK


def exit_code(exc: BaseException) -> int:
    """The exit status for an error (see the module docstring)."""
    from gen_nb.api.errors import (
        AuthenticationError,
        ConfigError,
        DownloadCancelled,
        NotFoundError,
        PermissionDeniedError,
    )

    if isinstance(exc, KeyboardInterrupt | DownloadCancelled):
        return EXIT_CANCELLED
    chain = [exc, exc.__cause__]
    if any(isinstance(e, NotFoundError) for e in chain):
        return EXIT_NOT_FOUND
    if any(isinstance(e, AuthenticationError | PermissionDeniedError | ConfigError)
           for e in chain):
        return EXIT_AUTH
    if isinstance(exc, ValueError | TypeError):
        return EXIT_USAGE
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gen-nb``; returns the exit status."""
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else None
    if level is not None:
        logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    if args.command == "sandbox":
        from gen_nb import sandbox

        with contextlib.suppress(KeyboardInterrupt):   # Ctrl-C is how it is stopped
            sandbox.serve(port=args.port)
        return EXIT_OK
    handler = _download if args.command == "download" else _stream
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("gen-nb: cancelled (a download keeps its .part: run the same command again to "
              "resume)", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        code = exit_code(exc)
        print(f"gen-nb: error: {exc}", file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
