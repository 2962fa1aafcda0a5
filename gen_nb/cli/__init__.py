"""The ``gen-nb`` command (also ``python -m gen_nb``), for scripts, cron jobs and CI.

    gen-nb renders   [--engine ID]… [--status S]… [--since DATE] [--json | --csv]
    gen-nb download  <render id | URL> [-o DIR] [--segments N] [--overwrite] [--sha256 HEX]
    gen-nb stream    <render id | URL> <dest: s3://… | https://… presigned> [-H 'N: v']
    gen-nb export    DEST [--engine ID]… [--status S]… [--since DATE] [--no-layers]
                     [--name TEMPLATE] [--workers N] [--dask ADDRESS] [--dry-run]
    gen-nb publish   <render id | URL> --platform P … [--caption TEXT] [--title T] [--yes]
    gen-nb delete    <resource id> [--render] [--dry-run] [--yes]
    gen-nb sandbox   [--port N] [--fault-header]
    gen-nb app       [--port N]      the dashboard as a web app (Voila) on 127.0.0.1

Data (paths, tables, ``--json``) goes to stdout; progress bars and messages go to stderr.
``GEN_API_KEY`` (and ``GEN_AGENT_ID``) select the real API. Without a key every command that
needs the API stops with exit status 3 and says so; ``--sandbox`` (before the command) uses
the local sandbox instead, and says so on stderr. ``publish`` and ``delete`` ask before acting
on the real API (``--yes`` answers for scripts; with no terminal to ask on they refuse).

Exit status:

==== ===========================================================================
0    done (or nothing needed doing: the file was already there)
1    a transfer or a file of an export failed (network, integrity, disk, destination …)
2    usage error (bad arguments, a render without a URL yet)
3    authentication or configuration problem (no key, bad key, missing agent id)
4    not found (unknown render or resource id, the CDN answered 404)
5    not confirmed (publish/delete needed a yes it did not get)
130  cancelled with Ctrl-C (a download keeps its .part: run the command again to resume)
==== ===========================================================================
"""

from __future__ import annotations

from gen_nb.cli.commands import (
    EXIT_AUTH,
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_NOT_CONFIRMED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    exit_code,
    main,
)

__all__ = ["EXIT_AUTH", "EXIT_CANCELLED", "EXIT_FAILED", "EXIT_NOT_CONFIRMED", "EXIT_NOT_FOUND",
           "EXIT_OK", "EXIT_USAGE", "exit_code", "main"]
