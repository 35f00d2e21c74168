"""User text that leaves the program: safe to print on a terminal, and safe in a document."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and a carriage return that is not part
# of a CRLF (a lone CR lets text overwrite what the terminal already shows).
_UNSAFE = re.compile(r"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def inert(text: str) -> str:
    r"""Make text safe to print: control characters and ESC become visible escapes like \x1b."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# Every Unicode control character (category Cc: C0, DEL, C1) except tab and newline. A CRLF
# becomes a newline; any other is shown as a visible escape such as \x1b, as `inert` shows
# it on a terminal, so that an OSC 52 clipboard write or a screen-clearing sequence in a
# text reaches an exported file or a pipe as plain, harmless characters. The pattern starts
# with its class (a CR's newline taken along) so that re scans for it in one pass: a leading
# `\r\n|` alternative tried each character twice, 4 of a 216 KB redline's 115 ms.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]\n?")


def _visible(match: re.Match[str]) -> str:
    found = match.group()
    return "\n" if found == "\r\n" else f"\\x{ord(found[0]):02x}{found[1:]}"


def document_safe(text: str) -> str:
    r"""Text with no control characters but newline and tab; each other one spelled as \xNN."""
    return _CONTROL.sub(_visible, text)
