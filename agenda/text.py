"""Small helpers for user text shown to people: making it safe to print on a terminal."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and a carriage return that is not part
# of a CRLF (a lone CR lets text overwrite what the terminal already shows).
_UNSAFE = re.compile(r"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def inert(text: str) -> str:
    r"""Make text safe to print: control characters and ESC become visible escapes like \x1b."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
