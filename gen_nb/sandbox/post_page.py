"""The sandbox's page for a post it "published": what a ``post_url`` of the sandbox answers.

The sandbox never posts anywhere. A published platform's ``post_url`` points back at the
sandbox (``{api origin}/sandbox/posts/{platform}/{platform_post_id}``) and this small HTML page
says so, with the platform, caption, title, media link and time. Every value is escaped, and
only http(s) URLs become links.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .publish import PLATFORM_RULES
from .workspace import PlatformState, Post

STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;"
         "padding:0 1rem;color:#1f2937}.note{background:#fef3c7;border:1px solid #d97706;"
         "border-radius:.5rem;padding:.75rem 1rem}dt{font-weight:600;margin-top:.5rem}"
         "dd{margin:0}video{max-width:100%;max-height:60vh;background:#000;margin-top:1rem}")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _web(url: str | None) -> bool:
    return bool(url) and urlsplit(str(url)).scheme in ("http", "https")


def _link(url: str) -> str:
    """An escaped link to an http(s) URL; any other URL is shown as text only."""
    return f'<a href="{_e(url)}">{_e(url)}</a>' if _web(url) else _e(url)


def _document(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>")


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def post_page(post: Post, state: PlatformState) -> str:
    """The page of ``post`` as published (in the sandbox only) on ``state.platform``."""
    label = PLATFORM_RULES[state.platform]["label"]
    media = post.media_urls[0] if post.media_urls else None
    fields = [("Platform", _e(label)), ("Caption", _e(post.description) or "(none)")]
    if post.title:
        fields.append(("Title", _e(post.title)))
    fields += [("Media", _link(media) if media else "(none)"),
               ("Published", f"{_when(state.published_at)} (in the sandbox)"),
               ("Sandbox post", f"#{post.id}, {_e(label)} id {_e(state.post_id)}")]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in fields)
    player = ""
    if _web(media):
        poster = f' poster="{_e(post.thumbnail_url)}"' if _web(post.thumbnail_url) else ""
        player = f'<video src="{_e(media)}"{poster} controls preload="none"></video>'
    body = (f'<p class="note"><strong>Sandbox post: not published anywhere.</strong> The gen_nb '
            f"sandbox, a local GEN emulator, only pretends to publish: nothing was sent to "
            f"{_e(label)} and no one else can see this.</p>"
            f"<h1>{_e(label)} post (sandbox)</h1><dl>{rows}</dl>{player}")
    return _document(f"Sandbox post · {label}", body)


def missing_page(platform: str, post_id: str) -> str:
    """The 404 page for a sandbox post URL that matches no published post."""
    body = (f"<h1>No such sandbox post</h1><p>The sandbox has no post published on "
            f"{_e(platform)} as {_e(post_id)}. Sandbox posts live as long as the sandbox that "
            "made them; nothing is ever posted anywhere.</p>")
    return _document("No such sandbox post", body)
