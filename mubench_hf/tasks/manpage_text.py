"""Plain text and definitions from a Linux man page's roff source (the ``man(7)`` macros the Linux
man-pages project writes), without running ``groff``: the text must not change with the formatter's
version, and the task must read the same words on every machine that has the same package.

:func:`parse_manpage` returns the page's title and section, its text (section headings and paragraphs, in
order, whitespace collapsed) and its *definitions*: every ``.TP``/``.IP`` tag with the paragraph it
introduces (an option, a field, an ioctl and what it does). Tables (``.TS``/``.TE``) and examples
(``.EX``/``.EE``) are left out: they are code, not prose.
"""

from __future__ import annotations

import gzip
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

# Font and size changes, strings, and the marks that print nothing.
_SILENT = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)|\\s[+-]?\d+|\\\*(?:\[[^\]]*\]|\(..|.)|\\[&|^%c:]|\\k.")
_NAMED = {"aq": "'", "dq": '"', "lq": '"', "rq": '"', "oq": "'", "cq": "'", "em": "-", "en": "-", "hy": "-",
          "mi": "-", "bu": "*", "ti": "~", "ha": "^", "rs": "\\", "at": "@", "sh": "#", "pl": "+", "eq": "=",
          "lt": "<", "rt": ">", "co": "(C)", "tm": "(TM)", "de": "degrees", "mu": "x", "<=": "<=", ">=": ">=",
          "!=": "!=", "->": "->", "<-": "<-", "ga": "`", "ul": "_", "ba": "|", "br": "|"}  # fmt: skip
_CHARS = re.compile(r"\\\[([^\]]*)\]|\\\((..)")
_FONT_MACROS = {"B", "I", "SM", "SB"}
_ALTERNATING = {"BR", "RB", "IR", "RI", "BI", "IB"}
_PARAGRAPH = {"PP", "P", "LP", "sp", "br", "HP", "RS", "RE", "in", "nf", "fi", "ad", "na", "nh", "hy", "ne", "UE",
              "ME", "YS", "SY", "OP", "UR", "MT", "ll", "ti", "ps", "vs", "ft", "fam", "ie", "el", "if", "ds",
              "nr", "de", "so", "ig", "tr", "cc", "ev", "ns", "rs"}  # fmt: skip
_SPACE = re.compile(r"\s+")


@dataclass
class Manpage:
    """One page: ``title``/``section`` from ``.TH``, ``text`` (headings and paragraphs joined by spaces),
    ``definitions`` ((tag, definition) pairs) and ``summary`` (the NAME line after ``\\-``)."""

    title: str
    section: str
    text: str
    summary: str
    definitions: list[tuple[str, str]] = field(default_factory=list)


def unescape(text: str) -> str:
    """Roff escapes as plain characters (fonts dropped, ``\\-`` as ``-``, named glyphs spelled out)."""
    text = text.replace("\\e", "\x00").replace("\\-", "-").replace("\\ ", " ").replace("\\~", " ")
    text = _SILENT.sub("", text)
    text = _CHARS.sub(lambda m: _NAMED.get(m.group(1) or m.group(2), ""), text)
    text = re.sub(r"\\(.)", r"\1", text)  # any other escaped character stands for itself
    return text.replace("\x00", "\\")


def _arguments(rest: str) -> list[str]:
    try:
        return shlex.split(rest.replace("\\", "\\\\"), posix=True)
    except ValueError:  # an unbalanced quote: take the words as they stand
        return rest.split()


def _macro_text(name: str, rest: str) -> str:
    args = _arguments(rest)
    if name in _ALTERNATING:
        return "".join(args)
    return " ".join(args)


def _clean(parts: list[str]) -> str:
    return _SPACE.sub(" ", unescape(" ".join(parts))).strip()


def parse_manpage(source: str) -> Manpage:
    """Parse one page's roff source (see the module docstring)."""
    title, section = "", ""
    blocks: list[str] = []  # headings and paragraphs, in order
    definitions: list[tuple[str, str]] = []
    current: list[str] = []
    tag: str | None = None  # the tag of the definition being read
    awaiting_tag = False
    skipping = None  # the macro that ends a skipped block (TE, EE)
    summary = ""
    heading = ""

    def close() -> None:
        nonlocal current, tag
        text = _clean(current)
        if text:
            if tag is not None:
                definitions.append((tag, text))
                blocks.append(f"{tag} {text}")
            else:
                blocks.append(text)
        current, tag = [], None

    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"", '\\"')) or line.strip() in (".", "'"):
            continue
        line = re.sub(r'\\".*$', "", line)
        if skipping:
            if line.startswith(f".{skipping}"):
                skipping = None
            continue
        if line.startswith((".", "'")):
            name, _, rest = line[1:].strip().partition(" ")
            if name in ("TS", "EX"):
                close()
                skipping = {"TS": "TE", "EX": "EE"}[name]
            elif name == "TH":
                args = _arguments(rest)
                title, section = (args + ["", ""])[:2]
            elif name in ("SH", "SS"):
                close()
                heading = _clean([_macro_text(name, rest)])
                blocks.append(heading)
            elif name == "TP":
                close()
                awaiting_tag = True
            elif name == "IP":
                close()
                args = _arguments(rest)
                tag = _clean(args[:1]) or None
                if tag in ("*", "-", "o"):  # a bullet, not a term
                    tag = None
            elif name in _FONT_MACROS or name in _ALTERNATING:
                text = _macro_text(name, rest)
                if awaiting_tag:
                    close()
                    tag, awaiting_tag = _clean([text]), False
                else:
                    current.append(text)
            elif name in _PARAGRAPH:
                if name not in ("br", "in", "RS", "RE"):
                    close()
            continue
        if awaiting_tag:
            close()
            tag, awaiting_tag = _clean([line]), False
            continue
        current.append(line)
        if heading.upper() == "NAME" and not summary and "\\-" in line:
            summary = _clean([line.split("\\-", 1)[1]])
    close()
    return Manpage(
        title=title, section=section, text=" ".join(blocks), summary=summary, definitions=definitions
    )


def read_manpage(path: Path) -> str:
    """A page's roff source, gzipped or not."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", errors="replace")
