"""A griffe extension for the API pages: read this code base's two docstring habits as meant.

* ``Example:`` (singular) opens a doctest section here; griffe's Google parser knows only
  ``Examples:`` and would render the doctest as an admonition of markdown text.
* ``a, b: text`` under ``Args:`` documents two parameters at once; the parser would look for one
  parameter named ``"a, b"``. Each name gets its own entry with the same text.

Only the docstring text handed to the parser changes; the source stays as written.
"""

from __future__ import annotations

import re

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.M)
_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Params):[ \t]*$")
_PAIR = re.compile(r"^(\s+)(\w+(?:\s*,\s*\w+)+)(\s*(?:\([^)]*\))?:\s.*|\s*(?:\([^)]*\))?:)$")


def normalise(text: str) -> str:
    """The docstring with ``Example:`` as ``Examples:`` and ``a, b:`` parameter lines split."""
    text = _EXAMPLE.sub(r"\1Examples:", text)
    lines, out, i = text.split("\n"), [], 0
    section_indent = None
    while i < len(lines):
        line = lines[i]
        head = _SECTION.match(line)
        if head:
            section_indent = len(head.group(1))
            out.append(line)
            i += 1
            continue
        if section_indent is not None and line.strip() and len(line) - len(line.lstrip()) <= section_indent:
            section_indent = None
        pair = _PAIR.match(line) if section_indent is not None else None
        if pair:
            indent = pair.group(1)
            body = [pair.group(3)]
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > len(indent)):
                if not lines[j].strip() and (j + 1 >= len(lines) or len(lines[j + 1]) - len(lines[j + 1].lstrip()) <= len(indent)):
                    break
                body.append("\n" + lines[j])
                j += 1
            for name in [n.strip() for n in pair.group(2).split(",")]:
                out.append(indent + name + "".join(body))
            i = j
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class DocstringHabits(griffe.Extension):
    """Normalise every docstring before it is parsed (see the module docstring)."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = normalise(obj.docstring.value)
