"""The dashboard with 10,000 renders vs a bare ipywidgets ``Select`` holding the same labels.

Design targets: build ≤ 1 s, one filter keystroke ≤ 100 ms, widget state ≤ 2 MB (absolute),
and a gallery page turn sends a handful of comm messages. Each is also printed as a ratio to
the reference measured in the same run:

* build — ``RenderBrowser(client)`` (picker, gallery view, filters, first tab, local state
  read from an empty download folder) vs ``Select(options=labels)``;
* keystroke — setting the search text to one letter nearly every render matches (the worst
  case: one pass over precomputed search strings, at most ``limit`` = 500 options sent) vs
  filtering the labels in Python and assigning all the matches to the Select;
* state — the JSON of every widget model the build created vs the Select's;
* page turn — ``send`` calls on a counting comm for ``show_page(n)`` (the old gallery of
  stock widgets sent 183 for a 12-card page).

Rounds are interleaved (A B, B A, …); medians of wall time. Outside a kernel ipywidgets uses a
dummy comm, so serialisation is measured and nothing is sent.

    .venv/bin/python benchmarks/bench_dashboard.py [--renders 10000] [--rounds 7] [--json]

Exit status 0 when every target passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a clone, uninstalled

import ipywidgets
from ipywidgets.widgets.widget import _instances

from gen_nb.api.models import PlatformRules, Render
from gen_nb.widgets import RenderBrowser
from gen_nb.widgets.text import render_label

BUILD_S, KEYSTROKE_S, STATE_BYTES, PAGE_MESSAGES = 1.0, 0.100, 2_000_000, 5
_STATUSES = ("completed", "completed", "completed", "failed", "processing", "pending", "stopped")
_WORDS = ("Launch", "teaser", "recipe", "weekly", "tips", "pasta", "matcha", "Aurora", "drop")


def make_renders(n: int) -> list[Render]:
    """``n`` deterministic renders over 12 engines, mixed statuses, a third without thumbnail."""
    renders = []
    for i in range(n):
        status = _STATUSES[i % len(_STATUSES)]
        done = status == "completed"
        renders.append(Render(
            id=str(100_000 + i), status=status, engine_id=str(800 + i % 12),
            engine_title=f"Engine {i % 12}", cell_id=str(i),
            title=f"{_WORDS[i % 9]} {_WORDS[(i // 9) % 9]} clip {i}",
            url=f"https://cdn.gen.pro/outputs/render_{i}.mp4" if done else None,
            thumbnail_url=f"https://cdn.gen.pro/thumbnails/render_{i}.jpg"
            if done and i % 3 else None, output_resource_id=str(900_000 + i) if done else None))
    return renders


class ListClient:
    """Just what the dashboard's build asks a client for."""

    is_sandbox = True

    def __init__(self, renders: list[Render]) -> None:
        self._renders = renders

    def renders(self, engine_ids: Any = None, **_: Any) -> list[Render]:
        return list(self._renders)

    def platforms(self) -> list[PlatformRules]:
        return [PlatformRules("tiktok", label="TikTok", max_text=2200)]

    def posts(self, *_: Any) -> list[Any]:
        return []


def new_models(before: set[str]) -> list[ipywidgets.Widget]:
    return [w for key, w in list(_instances.items()) if key not in before]


def state_bytes(widgets: list[ipywidgets.Widget]) -> int:
    return sum(len(json.dumps(w.get_state(), default=str)) for w in widgets)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def build_dashboard(client: ListClient, dest: str) -> tuple[Any, int]:
    before = set(_instances)
    browser = RenderBrowser(client, dest=dest)
    return browser, state_bytes(new_models(before))


def build_select(labels: list[str]) -> tuple[Any, int]:
    before = set(_instances)
    select = ipywidgets.Select(options=labels, rows=10)
    return select, state_bytes(new_models(before))


def keystrokes(browser: Any, select: Any, labels: list[str], needle: str
               ) -> tuple[float, float]:
    lower = [label.lower() for label in labels]

    def reference() -> None:
        select.options = [lab for lab, low in zip(labels, lower, strict=True) if needle in low]

    ours, _ = timed(lambda: setattr(browser.picker.text, "value", needle))
    theirs, _ = timed(reference)
    browser.picker.text.value, select.options = "", labels
    return ours, theirs


def page_turn_messages(browser: Any) -> int:
    browser.view.value = "Gallery"
    grid = browser.gallery
    sent: list[Any] = []
    original = grid.comm.send
    grid.comm.send = lambda *args, **kwargs: sent.append(args)
    try:
        browser.picker.show_page(3)
    finally:
        grid.comm.send = original
    return len(sent)


def run(n: int, rounds: int) -> dict[str, Any]:
    renders = make_renders(n)
    client, labels = ListClient(renders), [render_label(r) for r in renders]
    build_a, build_b, key_a, key_b = [], [], [], []
    state_a = state_b = messages = 0
    with tempfile.TemporaryDirectory() as dest:
        for i in range(rounds):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for which in order:
                if which == 0:
                    seconds, (browser, state_a) = timed(lambda: build_dashboard(client, dest))
                    build_a.append(seconds)
                else:
                    seconds, (select, state_b) = timed(lambda: build_select(labels))
                    build_b.append(seconds)
            # the worst keystroke: one letter that almost every render matches
            ours, theirs = keystrokes(browser, select, labels, "ea"[i % 2])
            key_a.append(ours)
            key_b.append(theirs)
            messages = page_turn_messages(browser)
    med = statistics.median
    return {"renders": n, "rounds": rounds,
            "build_s": med(build_a), "build_ref_s": med(build_b),
            "keystroke_s": med(key_a), "keystroke_ref_s": med(key_b),
            "state_bytes": state_a, "state_ref_bytes": state_b,
            "page_turn_messages": messages}


def table(result: dict[str, Any]) -> tuple[str, bool]:
    rows = [("build", result["build_s"], result["build_ref_s"], BUILD_S, "s"),
            ("keystroke", result["keystroke_s"], result["keystroke_ref_s"], KEYSTROKE_S, "s"),
            ("widget state", result["state_bytes"] / 1e6, result["state_ref_bytes"] / 1e6,
             STATE_BYTES / 1e6, "MB"),
            ("gallery page turn", result["page_turn_messages"], None, PAGE_MESSAGES, "msgs")]
    lines = [f"dashboard with {result['renders']:,} renders, medians of {result['rounds']} "
             "interleaved rounds (reference: a bare ipywidgets Select with the same labels)",
             f"{'what':<18} {'gen_nb':>10} {'Select':>10} {'ratio':>7} {'target':>10}  result"]
    ok = True
    for name, ours, ref, target, unit in rows:
        passed = ours <= target
        ok &= passed
        ratio = f"{ours / ref:.2f}" if ref else "–"
        ref_text = f"{ref:.3f}" if ref is not None else "–"
        lines.append(f"{name:<18} {ours:>10.3f} {ref_text:>10} {ratio:>7} "
                     f"{'≤ ' + format(target, 'g') + ' ' + unit:>10}  "
                     f"{'PASS' if passed else 'FAIL'}")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.renders, args.rounds)
    text, ok = table(result)
    print(json.dumps(result) if args.json else text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
