"""Rewrite plain word alternations in a regular expression as a prefix tree.

Python's `re` tries the alternatives of a group one after another, so a list of a hundred words
("teacher|tutor|coach|...") costs a hundred attempts at every position. The same list written as
a tree ("t(?:eacher|utor)|coach") is matched with a handful of comparisons. Rules stay readable
in the rules file; this runs once when they are compiled and never changes what matches.
"""
from __future__ import annotations

import re

_INNER_GROUP = re.compile(r"\(\?:((?:[^()\\]|\\.)*)\)")
_PLAIN = re.compile(r"[a-z0-9 '\-]+")


def _split_alternatives(body: str) -> list[str]:
    parts, depth, current, escaped = [], 0, [], False
    for ch in body:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            current.append(ch)
        elif ch in "[\x00":
            depth += 1
            current.append(ch)
        elif ch in "]\x01":
            depth -= 1
            current.append(ch)
        elif ch == "|" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _trie(words: list[str]) -> str:
    tree: dict = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _render(tree)


def trie_pattern(words: list[str]) -> str:
    """Literal words (any characters) as one prefix-tree regex, longest match first along a path."""
    return _trie(words).replace("\x00", "(?:").replace("\x01", ")")


def _render(node: dict) -> str:
    optional = "" in node
    branches = [re.escape(ch) + _render(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    # \x00 and \x01 stand for "(?:" and ")" until optimise() is done, so the tree's own groups
    # are never taken for groups still to rewrite.
    body = branches[0] if len(branches) == 1 else "\x00" + "|".join(branches) + "\x01"
    if optional:
        return ("\x00" + body + "\x01?") if len(branches) == 1 and len(body) > 1 else body + "?"
    return body


def optimise(pattern: str) -> str:
    """Replace every innermost group of plain literal alternatives with its prefix tree."""

    def rewrite(m: re.Match[str]) -> str:
        alternatives = _split_alternatives(m.group(1))
        plain = [a for a in alternatives if _PLAIN.fullmatch(a)]
        if len(plain) < 3:
            return m.group(0)
        rest = [a for a in alternatives if not _PLAIN.fullmatch(a)]
        # Marker keeps the rewritten group from being matched again as an "innermost group".
        return "\x00" + "|".join([_trie(plain)] + rest) + "\x01"

    previous = None
    while previous != pattern:
        previous = pattern
        pattern = _INNER_GROUP.sub(rewrite, pattern)
    return pattern.replace("\x00", "(?:").replace("\x01", ")")

