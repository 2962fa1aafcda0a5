"""The ``gen-nb`` argument parser: one sub-command per job, the same filter flags everywhere."""

from __future__ import annotations

import argparse

__all__ = ["EPILOG", "build_parser"]

EPILOG = """exit status: 0 done · 1 a transfer failed · 2 usage error · 3 no/bad key or setting ·
4 not found · 5 not confirmed · 130 cancelled (Ctrl-C). Without GEN_API_KEY, commands that need
the API stop with 3 unless --sandbox is given."""


def _positive(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {text!r}")
    return value


def _option(text: str) -> tuple[str, str]:
    """argparse type: ``key=value`` (a storage option)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"must look like key=value, not {text!r}")
    return key.strip(), value


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", action="append", default=None, metavar="ID",
                        help="only this engine (repeatable)")
    parser.add_argument("--status", action="append", default=None,
                        help="only renders in this status (repeatable; 'all' for every status)")
    parser.add_argument("--since", default=None, metavar="DATE",
                        help="only renders created on or after this date (2026-11-01)")


def _output(parser: argparse.ArgumentParser, csv: bool = False) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    if csv:
        parser.add_argument("--csv", action="store_true", help="print the table as CSV")


def _progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _storage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storage-option", action="append", type=_option, default=[],
                        metavar="KEY=VALUE", help="fsspec storage option (repeatable), e.g. "
                        "endpoint_url=http://127.0.0.1:9000")


def _add_transfers(sub: argparse._SubParsersAction) -> None:
    download = sub.add_parser("download", help="download a render or URL (resumable, verified)")
    download.add_argument("source", help="a render id or an http(s) URL")
    download.add_argument("-o", "--output", default=None,
                          help="folder (or file path); default $GEN_NB_DOWNLOAD_DIR or ./downloads")
    download.add_argument("--segments", type=_positive, default=1, help="parallel ranges")
    download.add_argument("--overwrite", action="store_true",
                          help="replace a different file already there")
    download.add_argument("--sha256", default=None, help="expected sha256 of the file")
    _output(download)
    _progress(download)

    stream = sub.add_parser("stream", help="copy a render or URL to storage, never to disk")
    stream.add_argument("source", help="a render id or an http(s) URL")
    stream.add_argument("dest", help="s3://bucket/key (any fsspec URL) or an http(s) upload URL")
    stream.add_argument("--method", default="PUT", choices=("PUT", "POST"))
    stream.add_argument("-H", "--header", action="append", default=[],
                        help="extra upload header 'Name: value' (repeatable)")
    _storage(stream)
    _output(stream)
    _progress(stream)


def _add_export(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="export renders and layer outputs, incrementally")
    export.add_argument("dest", help="a folder or an fsspec URL (s3://bucket/prefix)")
    _filters(export)
    export.add_argument("--no-layers", dest="layers", action="store_false",
                        help="renders only, not their layer outputs")
    export.add_argument("--name", default=None, metavar="TEMPLATE",
                        help="path template, e.g. '{engine}/{render_id}{ext}'")
    export.add_argument("--workers", type=_positive, default=16, help="files at once")
    export.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run on this Dask scheduler (tcp://host:8786)")
    export.add_argument("--dry-run", action="store_true", help="only say what would move")
    export.add_argument("--verify", choices=("sha256", "size"), default="sha256",
                        help="how a file already there is checked (local folders)")
    _storage(export)
    _output(export)
    _progress(export)


def _add_actions(sub: argparse._SubParsersAction) -> None:
    renders = sub.add_parser("renders", help="list renders as a table (or JSON / CSV)")
    _filters(renders)
    _output(renders, csv=True)

    publish = sub.add_parser("publish", help="post a render by its URL to platforms")
    publish.add_argument("source", help="a render id or a media URL")
    publish.add_argument("--platform", action="append", required=True,
                         help="tiktok, instagram, facebook, youtube, x, linkedin (repeatable)")
    publish.add_argument("--caption", default="", help="the post's text")
    publish.add_argument("--title", default=None, help="title (YouTube needs one)")
    publish.add_argument("--when", default="next_available",
                         help="now, next_available, or an ISO time (2026-12-24T18:00:00Z)")
    publish.add_argument("--no-wait", dest="wait", action="store_false",
                         help="do not follow the post until it is published")
    publish.add_argument("--yes", action="store_true", help="do not ask")
    _output(publish)

    delete = sub.add_parser("delete", help="delete a stored file for good (asks first)")
    delete.add_argument("target", help="a content resource id (or a render id with --render)")
    delete.add_argument("--render", action="store_true",
                        help="the target is a render id: delete that render's video file")
    delete.add_argument("--dry-run", action="store_true", help="only show what would go")
    delete.add_argument("--yes", action="store_true", help="do not ask")
    _output(delete)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gen-nb", description="GEN renders from the shell.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what happens (-vv for debug)")
    parser.add_argument("--sandbox", action="store_true",
                        help="use the local sandbox instead of the real API")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_actions(sub)
    _add_transfers(sub)
    _add_export(sub)
    sandbox = sub.add_parser("sandbox", help="run the local GEN emulator until Ctrl-C")
    sandbox.add_argument("--port", type=int, default=0, help="API port (default: any free)")
    sandbox.add_argument("--fault-header", action="store_true",
                         help="honour X-Sandbox-Fault request headers (for tests)")
    app = sub.add_parser("app", help="the dashboard as a web app for people who don't code")
    app.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1")
    for action in sub.choices.values():
        action.epilog = EPILOG
    return parser
