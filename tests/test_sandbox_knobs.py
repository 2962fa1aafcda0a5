"""The fault knobs are defined once, in ``knobs.KNOBS``: docs, validation and effects follow."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from gen_nb import sandbox
from gen_nb.sandbox import knobs
from gen_nb.sandbox.handle import Sandbox

EXISTING = {"latency", "status", "retry_after", "html", "drop_after", "truncate_after",
            "stall_after", "stall_seconds", "ignore_range", "no_etag", "no_length", "rate"}


def _table_names(doc: str) -> set[str]:
    """First-column names of the reST knob table in ``doc``."""
    return {m.group(1) for m in re.finditer(r"^\s*([a-z_]+) {2,}\S", doc, re.MULTILINE)}


def test_the_table_holds_every_knob_once() -> None:
    names = [k.name for k in knobs.KNOBS]
    assert len(names) == len(set(names)) and set(names) == EXISTING
    assert set(knobs.BY_NAME) == EXISTING


@pytest.mark.parametrize("knob", knobs.KNOBS, ids=lambda k: k.name)
def test_every_knob_has_a_doc_and_an_effect(knob: knobs.Knob) -> None:
    assert len(knob.doc) > 10 and knob.type in (bool, int, float)
    target = knobs.BY_NAME.get(knob.option_of or knob.alias_of or knob.name)
    assert target is not None, f"{knob.name} tunes or aliases an unknown knob"
    assert target.hooks, f"{knob.name} has no effect (no hook, and tunes no knob with one)"
    assert bool(knob.hooks) != bool(knob.option_of or knob.alias_of), knob.name


def test_the_knobs_docstring_lists_them_all() -> None:
    assert _table_names(knobs.__doc__ or "") == EXISTING
    for knob in knobs.KNOBS:
        assert knob.doc.split()[0] in (knobs.__doc__ or "")


def test_inject_help_lists_them_all() -> None:
    assert _table_names(Sandbox.inject.__doc__ or "") == EXISTING


@pytest.mark.parametrize(("given", "expected"), [
    ({"truncate_after": "10", "no_etag": True}, {"no_etag": True, "drop_after": 10}),
    ({"stall_after": 5}, {"stall_after": 5, "stall_seconds": 30.0}),
    ({"stall_after": 5, "stall_seconds": "2"}, {"stall_after": 5, "stall_seconds": 2.0}),
    ({"status": "503", "retry_after": 1, "html": "off"},
     {"status": 503, "retry_after": 1.0, "html": False}),
    ({"latency": 0.5, "rate": "1e6"}, {"latency": 0.5, "rate": 1e6}),
])
def test_normalize_coerces_by_the_table(given: dict, expected: dict) -> None:
    assert knobs.normalize_knobs(given) == expected


@pytest.mark.parametrize("given", [{"explode": 1}, {"status": 200}, {"status": 600},
                                   {"drop_after": -1}, {"latency": None}, {"rate": True}])
def test_normalize_rejects_bad_values(given: dict) -> None:
    with pytest.raises(ValueError):
        knobs.normalize_knobs(given)


def test_header_parsing_uses_the_same_table() -> None:
    assert knobs.parse_fault_header("drop_after=1048576; ignore_range") == {
        "drop_after": 1048576, "ignore_range": True}
    assert knobs.parse_fault_header("status=429, retry_after=2") == {"status": 429,
                                                                     "retry_after": 2.0}
    with pytest.raises(ValueError):
        knobs.parse_fault_header("nope")


def _teapot(ctx: knobs.FaultContext, on: bool) -> knobs.Answer | None:
    return knobs.Answer(418, b"short and stout", "text/plain") if on else None


@pytest.fixture()
def teapot_knob(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One more table entry, nothing else: the knob must work everywhere."""
    knob = knobs.Knob("teapot", bool, "answer 418 (a knob added by one table entry)",
                      on_request=_teapot)
    monkeypatch.setattr(knobs, "KNOBS", (*knobs.KNOBS, knob))
    monkeypatch.setattr(knobs, "BY_NAME", {**knobs.BY_NAME, "teapot": knob})
    yield


def test_a_knob_is_added_by_one_table_entry(teapot_knob: None) -> None:
    with sandbox.start(fault_header=True) as sb:
        url = sb.large_media_url(100)
        fault = sb.inject("cdn", teapot=True, times=1)
        assert requests.get(url, timeout=10).status_code == 418 and fault.hits == 1
        assert requests.get(url, timeout=10).status_code == 200
        by_header = requests.get(url, headers={"X-Sandbox-Fault": "teapot"}, timeout=10)
        assert by_header.status_code == 418 and by_header.text == "short and stout"
        assert sb.requests[-1].faults == {"teapot": True}
