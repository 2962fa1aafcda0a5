"""What a marketer would notice, measured in the page: clipped messages, low contrast, a save
link that saves the wrong bytes, and the dashboard's shared flows (pick, download, fetch).

* :func:`clipped_messages` — every visible ``.gen-nb-msg`` whose text is cut
  (``scrollWidth > clientWidth``, itself or an ancestor that hides overflow);
* :func:`low_contrast_messages` — the WCAG ratio of each visible message's colour against the
  first non-transparent background up the tree (a translucent colour blended over it), < 4.5;
* :func:`fetch_sha256` — fetches an href from the page (with its cookies) and hashes the bytes.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from lab_driver import open_tab, select_option_containing, wait_for_full_bar

CLIPPED_JS = r"""() => {
  const shown = (e) => e.offsetParent !== null && e.getClientRects().length > 0;
  const out = [];
  for (const e of document.querySelectorAll('.gen-nb-msg')) {
    if (!shown(e) || !e.textContent.trim()) continue;
    const cut = [];
    if (e.scrollWidth > e.clientWidth + 1) cut.push('self');
    for (let p = e.parentElement; p && !p.classList.contains('jp-OutputArea-output');
         p = p.parentElement) {
      const cs = getComputedStyle(p);
      if ([cs.overflow, cs.overflowX].some(v => v === 'hidden' || v === 'clip')
          && p.scrollWidth > p.clientWidth + 1) cut.push(p.className || p.tagName);
    }
    if (cut.length) out.push({text: e.textContent.slice(0, 120), cut});
  }
  return out;
}"""

CONTRAST_JS = r"""() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return {r: 0, g: 0, b: 0, a: 0};
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const out = [];
  for (const e of document.querySelectorAll('.gen-nb-msg')) {
    if (e.offsetParent === null || !e.textContent.trim()) continue;
    const bg = background(e);
    const fg = parse(getComputedStyle(e).color);
    const mix = (f, b) => f * fg.a + b * (1 - fg.a);
    const seen = {r: mix(fg.r, bg.r), g: mix(fg.g, bg.g), b: mix(fg.b, bg.b)};
    const [hi, lo] = [lum(seen), lum(bg)].sort((a, b) => b - a);
    out.push({text: e.textContent.slice(0, 80), kind: e.className,
              ratio: (hi + 0.05) / (lo + 0.05)});
  }
  return out;
}"""

FETCH_JS = r"""async (href) => {
  const answer = await fetch(href, {credentials: 'same-origin'});
  const bytes = await answer.arrayBuffer();
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  const hex = [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
  return {status: answer.status, type: answer.headers.get('content-type'), size: bytes.byteLength,
          sha256: hex};
}"""


# Widgets of the dashboard whose border box runs past their parent's content box: ipywidgets'
# boxes clip (overflow: auto), so that is a cut border or a sideways scrollbar.
OVERFLOW_JS = r"""() => {
  const out = [];
  for (const el of document.querySelectorAll('.gen-nb-browser .jupyter-widgets')) {
    const parent = el.parentElement, box = el.getBoundingClientRect();
    if (!parent || box.width === 0) continue;
    const outer = parent.getBoundingClientRect(), style = getComputedStyle(parent);
    const right = outer.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
    if (box.right > right + 0.5)
      out.push({widget: el.className, right: box.right, parent_right: right});
  }
  return out;
}"""


def overflowing_widgets(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(OVERFLOW_JS)


def clipped_messages(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(CLIPPED_JS)


def low_contrast_messages(page: Any, minimum: float = 4.5) -> list[dict[str, Any]]:
    return [m for m in page.evaluate(CONTRAST_JS) if m["ratio"] < minimum]


def message_count(page: Any) -> int:
    return len(page.evaluate(CONTRAST_JS))


def fetch_sha256(page: Any, href: str) -> dict[str, Any]:
    return page.evaluate(FETCH_JS, href)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_messages(page: Any) -> None:
    """No visible message is clipped, and each reaches 4.5:1 against its background."""
    assert message_count(page) > 0, "no gen_nb message on the page"
    assert not clipped_messages(page), clipped_messages(page)
    assert not low_contrast_messages(page), low_contrast_messages(page)
    assert not overflowing_widgets(page), overflowing_widgets(page)


def browser_root(page: Any) -> Any:
    """The outermost widget box holding the RenderBrowser's tabs."""
    return page.locator(".gen-nb-browser").first


def downloaded_file(folder: Path, name: str | None = None, timeout_s: float = 60.0) -> Path:
    """The finished download in ``folder`` (not a .part, sidecar or lock), once it is there."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = [p for p in folder.rglob("*") if p.is_file() and ".part" not in p.name
                and p.suffix not in (".lock", ".jsonl") and not p.name.startswith(".")
                and (name is None or p.name == name)]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no finished file in {folder}: {sorted(folder.rglob('*'))}")


def pick(root: Any, render: Any) -> None:
    """Choose ``render`` in the dashboard's list (options end with "#<id>")."""
    select_option_containing(root, f"#{render.id}")


def download_and_fetch(page: Any, root: Any, folder: Path, render: Any = None) -> dict[str, Any]:
    """Download the picked render from the Download tab, then fetch the save link the way the
    browser would and compare its bytes with the file on disk. With ``render``, the file has
    its name and the second link is its CDN URL. Returns the fetch answer, the link (``href``),
    the CDN link (``remote``) and the file (``landed``)."""
    panel = open_tab(root, "Download")
    panel.get_by_role("button", name="Download").first.click()
    wait_for_full_bar(page, panel, "success")
    landed = downloaded_file(folder, Path(render.url).name if render is not None else None)
    link = panel.locator("a.gen-nb-save-file").first
    link.wait_for(state="visible")
    assert link.get_attribute("download") == landed.name
    href = link.evaluate("a => a.href")
    answer = fetch_sha256(page, href)
    assert answer["status"] == 200, (href, answer)
    assert answer["sha256"] == sha256_of(landed), (href, answer, landed.stat().st_size)
    remote = panel.locator("a.gen-nb-save-remote").first.get_attribute("href")
    if render is not None:
        assert remote == render.url
    return {"href": href, "remote": remote, "landed": landed, **answer}
