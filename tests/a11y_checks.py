"""Checks of WCAG success criteria that axe-core does not make, run in Chromium on a page as it is now.

Each returns what it found wrong (empty: nothing); tests/test_accessibility.py runs them over every kind of
page and shows each one failing on a page made to fail it. The report (docs/accessibility.ja.md) names them.
"""

from __future__ import annotations

from typing import Any

# WCAG 1.4.12's test values: what a reader's own style sheet may set without anything being lost.
TEXT_SPACING_CSS = (
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }"
    " p { margin-bottom: 2em !important; }"
)

# Elements that stick out of the window sideways (outside any part of the page that scrolls on its own),
# and elements that hide what does not fit (overflow hidden or clip) while holding more than fits.
_CUT_OFF = """() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  const scrollsItself = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (/(auto|scroll)/.test(s.overflowX) && a.scrollWidth > a.clientWidth) return true;
    }
    return false;
  };
  const shown = (e) => {
    const s = getComputedStyle(e);
    return s.display !== 'none' && s.visibility !== 'hidden' && e.getClientRects().length > 0;
  };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  for (const e of document.body.querySelectorAll('*')) {
    if (!shown(e) || e.closest('[aria-hidden="true"], .visually-hidden, .sr-only')) continue;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && !scrollsItself(e)) found.push('sticks out: ' + name(e));
    const s = getComputedStyle(e);
    const hides = (v) => v === 'hidden' || v === 'clip';
    if (r.width > 1 && r.height > 1 && (e.textContent || '').trim()) {
      if ((hides(s.overflowX) && e.scrollWidth > e.clientWidth + 1) ||
          (hides(s.overflowY) && e.scrollHeight > e.clientHeight + 1)) found.push('cut off: ' + name(e));
    }
  }
  if (document.documentElement.scrollWidth > width) found.push('the page scrolls sideways');
  return found;
}"""

# In Windows high contrast (forced colors) backgrounds and shadows go: a control needs a border to be seen.
_BOUNDARIES = """() => {
  const found = [];
  const controls = document.querySelectorAll(
    'input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea, button');
  for (const e of controls) {
    if (e.getClientRects().length === 0 || e.tabIndex < 0) continue;
    const s = getComputedStyle(e);
    const sides = ['Top', 'Right', 'Bottom', 'Left'];
    const bordered = sides.every(
      (side) => s['border' + side + 'Style'] !== 'none' && parseFloat(s['border' + side + 'Width']) > 0);
    if (!bordered) found.push('no visible edge: ' + e.outerHTML.slice(0, 80));
  }
  return found;
}"""

# The focused element: where it is, whether something else covers its middle, and whether it shows focus.
_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  e.scrollIntoView({block: 'nearest', inline: 'nearest'});
  const r = e.getBoundingClientRect();
  const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const top = document.elementFromPoint(x, y);
  const s = getComputedStyle(e);
  return {
    what: e.tagName.toLowerCase() + (e.name ? '[name=' + e.name + ']' : '') + ' '
      + (e.textContent || '').trim().slice(0, 30),
    inside: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
    covered: !(top && (top === e || e.contains(top) || top.contains(e)
      || (e.labels && [...e.labels].some((l) => l.contains(top))))),
    marked: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none',
  };
}"""

# Anything that moves: running animations, and animations or transitions the styles would start.
_MOTION = """() => {
  const found = document.getAnimations().map((a) => 'running: ' + (a.animationName || a.transitionProperty || a.id));
  for (const e of document.querySelectorAll('*')) {
    const s = getComputedStyle(e);
    if (s.animationName !== 'none') found.push('animation: ' + e.tagName.toLowerCase());
    const moves = s.transitionDuration.split(',').some((d) => parseFloat(d) > 0);
    if (moves) found.push('transition: ' + e.tagName.toLowerCase());
  }
  return found;
}"""

# Roles a person operates: each must have a name in the accessibility tree.
OPERATED = {"textbox", "searchbox", "checkbox", "radio", "combobox", "listbox", "spinbutton", "button", "switch"}


def cut_off(page: Any) -> list[str]:
    """What sticks out sideways or is clipped, on the page as it is now (WCAG 1.4.10 reflow, 1.4.4 resize)."""
    return list(page.evaluate(_CUT_OFF))


def cut_off_with_text_spacing(page: Any) -> list[str]:
    """What is lost once the text is spaced as WCAG 1.4.12 allows a reader to space it."""
    page.add_style_tag(content=TEXT_SPACING_CSS)
    return cut_off(page)


def edgeless_in_forced_colors(page: Any) -> list[str]:
    """Controls without a visible edge once Windows high contrast takes the colours (WCAG 1.4.11)."""
    return _emulating(page, "forced_colors", ("active", "none"), _BOUNDARIES)


def _emulating(page: Any, feature: str, values: tuple[str, str], script: str) -> list[str]:
    """What `script` finds while the page is shown with a media feature set (then set back)."""
    page.emulate_media(**{feature: values[0]})
    try:
        return list(page.evaluate(script))
    finally:
        page.emulate_media(**{feature: values[1]})


def hidden_focus(page: Any, stops: int = 60) -> list[str]:
    """Tab through the page: each focused element in view, not covered, and marked (WCAG 2.4.11, 2.4.7)."""
    found: list[str] = []
    seen: set[str] = set()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None or focused["what"] in seen:
            break  # round the page once
        seen.add(focused["what"])
        faults = {"covered": focused["covered"], "outside the window": not focused["inside"]}
        faults["no focus mark"] = not focused["marked"]
        found += [f"{fault}: {focused['what']}" for fault, bad in faults.items() if bad]
    return found


def moving(page: Any) -> list[str]:
    """What moves when the reader asked for reduced motion (WCAG 2.3.3; 2.2.2 for anything that starts by itself)."""
    return _emulating(page, "reduced_motion", ("reduce", "no-preference"), _MOTION)


def accessibility_tree(page: Any) -> list[dict[str, Any]]:
    """The page's accessibility tree as Chromium gives it to screen readers (CDP Accessibility.getFullAXTree)."""
    session = page.context.new_cdp_session(page)
    try:
        return list(session.send("Accessibility.getFullAXTree")["nodes"])
    finally:
        session.detach()


def _value(node: dict[str, Any], key: str) -> str:
    return str((node.get(key) or {}).get("value") or "")


def state(node: dict[str, Any], name: str) -> str:
    """A state or property of an accessibility-tree node (invalid, required, ...); empty when it has none."""
    for prop in node.get("properties", ()):
        if prop.get("name") == name:
            return str((prop.get("value") or {}).get("value"))
    return ""


def unnamed_controls(tree: list[dict[str, Any]]) -> list[str]:
    """Controls a screen reader would announce without a name (WCAG 4.1.2, 1.3.1, 3.3.2)."""
    return [
        f"{_value(node, 'role')} without a name"
        for node in tree
        if not node.get("ignored") and _value(node, "role") in OPERATED and not _value(node, "name").strip()
    ]


def unexplained_errors(tree: list[dict[str, Any]]) -> list[str]:
    """Fields marked invalid whose announced description does not carry an error message (WCAG 3.3.1)."""
    return [
        f"{_value(node, 'name')}: invalid without its message"
        for node in tree
        if not node.get("ignored")
        and state(node, "invalid") not in ("", "false")
        and not _value(node, "description").strip()
    ]


def alerts(tree: list[dict[str, Any]]) -> list[str]:
    """The names of the page's alerts: what a screen reader announces as soon as the page shows it (WCAG 4.1.3)."""
    return [_value(node, "name") for node in tree if not node.get("ignored") and _value(node, "role") == "alert"]
