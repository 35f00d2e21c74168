"""Keep control characters out of documents that leave the program: only newline and tab pass."""

from __future__ import annotations

import re

# Every Unicode control character (category Cc: C0, DEL, C1) except tab and newline. A CRLF
# becomes a newline; any other is shown as a visible escape such as \x1b, as the CLI shows
# it on a terminal (agenda.diff.inert), so that an OSC 52 clipboard write or a screen-clearing
# sequence in a text reaches an exported file or a pipe as plain, harmless characters.
_CONTROL = re.compile(r"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    found = match.group()
    return "\n" if found == "\r\n" else f"\\x{ord(found):02x}"


def document_safe(text: str) -> str:
    r"""Text with no control characters but newline and tab; each other one spelled as \xNN."""
    return _CONTROL.sub(_visible, text)

