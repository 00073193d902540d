"""Open Terms Archive range selectors over an lxml tree.

A range selector is ``{"startBefore"|"startAfter": css, "endBefore"|"endAfter": css}``: the part of
the document between two boundary points, each just before or just after the first element a CSS
selector matches (as the DOM's ``Range`` does in OTA). A boundary point is a path of child indexes
from the root: ``[i, j]`` is the point before the j-th child of the root's i-th child.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from lxml import html

if TYPE_CHECKING:
    from typing_extensions import TypeIs

Point = list[int]
Query = Callable[[str], list[html.HtmlElement]]


class RangeError(ValueError):
    """A range selector is malformed or one of its boundaries matches nothing."""


def is_range(selector: object) -> TypeIs[dict]:
    """Whether ``selector`` is a range selector (a mapping) rather than a CSS string."""
    return isinstance(selector, dict)


def clone_range(root: html.HtmlElement, selector: dict, query: Query) -> html.HtmlElement | None:
    """A copy of the part of ``root`` the range covers (its ancestors copied shallowly), or None if empty."""
    start, end = _points(root, selector, query)
    if start >= end:
        return None
    return _clone(root, start, end)


def delete_range(root: html.HtmlElement, selector: dict, query: Query) -> None:
    """Remove from ``root`` the part the range covers."""
    start, end = _points(root, selector, query)
    if start < end:
        _delete(root, start, end)


def _points(root: html.HtmlElement, selector: dict, query: Query) -> tuple[Point, Point]:
    starts = [key for key in ("startBefore", "startAfter") if key in selector]
    ends = [key for key in ("endBefore", "endAfter") if key in selector]
    if len(starts) != 1 or len(ends) != 1 or len(selector) != 2:
        raise RangeError(
            f"range selector {selector!r} needs one of startBefore/startAfter and one of endBefore/endAfter"
        )
    return _point(root, selector, starts[0], query), _point(root, selector, ends[0], query)


def _point(root: html.HtmlElement, selector: dict, key: str, query: Query) -> Point:
    matches = query(selector[key])
    if not matches:
        raise RangeError(f"range {key} {selector[key]!r} matched nothing")
    path = _path(root, matches[0])
    if key.endswith("After"):
        path[-1] += 1
    return path


def _path(root: html.HtmlElement, element: html.HtmlElement) -> Point:
    path = []
    while element is not root:
        parent = element.getparent()
        path.append(parent.index(element))
        element = parent
    return path[::-1]


def _clone(node: html.HtmlElement, start: Point | None, end: Point | None) -> html.HtmlElement:
    """A shallow copy of ``node`` holding the content between ``start`` and ``end`` (None = unbounded)."""
    out = html.Element(node.tag, dict(node.attrib))
    children = list(node)
    first = start[0] if start else 0
    last = end[0] if end else len(children)
    if not start:
        out.text = node.text
    for index in range(first, min(last + 1, len(children))):
        child = children[index]
        inner_start = start[1:] if start and index == first and len(start) > 1 else None
        inner_end = end[1:] if end and index == last and len(end) > 1 else None
        if index == last and not inner_end:
            break
        if inner_start is None and inner_end is None:
            out.append(copy.deepcopy(child))
        else:
            out.append(_clone(child, inner_start, inner_end))
            out[-1].tail = child.tail
        if index == last:
            out[-1].tail = None
    return out


def _delete(node: html.HtmlElement, start: Point | None, end: Point | None) -> None:
    """Remove from ``node`` the content between ``start`` and ``end`` (None = unbounded)."""
    children = list(node)
    first = start[0] if start else 0
    last = end[0] if end else len(children)
    if not start:
        node.text = None
    for index in range(first, min(last + 1, len(children))):
        child = children[index]
        inner_start = start[1:] if start and index == first and len(start) > 1 else None
        inner_end = end[1:] if end and index == last and len(end) > 1 else None
        if index == last and not inner_end:
            break
        if inner_start is None and inner_end is None:
            node.remove(child)  # its tail goes with it
        else:
            _delete(child, inner_start, inner_end)
            if index != last:
                child.tail = None
