"""Read a Markdown agenda written elsewhere into a summit: details, sections, items, texts.

The outline comes from markdown-it-py's block tokens and their line maps; item texts are
slices of the source lines, so whatever Markdown an item holds (tables, nested lists, HTML,
link definitions) is kept as written. Every non-blank line ends up in the summit (an item, a
section heading, the details or the preamble) or in the report: nothing is dropped without
saying so. Re-importing a revised file matches items by title and text similarity, so a
retitled, edited, moved or removed item is recognised rather than added again.

Memory (an import of 100k items reached 640 MB, 6.5 KB an item; 1M items, 6.6 GB) does not
grow with the items of an import into a new summit:

* A file is read a window of lines at a time (`SourceLines`, as `summit import` reads it): only
  where each line starts is held, 8 bytes a line.
* The document's block tokens are read a chunk at a time (`_Tokens`): the text is cut before
  top-level ATX headings and before the entries of top-level lists, at least `_CHUNK_LINES`
  lines apart, each cut checked by the very parse that reads the chunk (with the line after
  it: it must come out as a level-0 heading, so no fence, HTML block, list or quote was open
  across it, or as a further entry of the list open there; a cut that fails moves to the
  next candidate). Block parsing looks ahead only within a block, so each chunk's tokens are
  the whole document's, numbered as in it; a list cut in two is mended (its closing and
  reopening tokens dropped, its end and its tightness told to every part). A first pass over
  the chunks keeps what the outline needs of the whole document, which is small: its
  top-level blocks (with a heading's level), the link definitions and their lines, and for
  each top-level list the counts that say whether it is agenda entries, its entries' titles
  going to disk to be read back in order. The outline then reads the tokens by index as
  before; a chunk not at hand is parsed again (two are kept).
* Only the last item made can still grow (what follows it joins its text): each earlier one
  is finished as the next is made and handed to a sink. Into a new summit, whose first record
  names the sections and preamble only the whole document gives, the items (and their own
  notes) wait on disk (`_OnDisk`) until that record is written; then
  `Workspace.add_items_streamed` writes each item's records, events and labels out as they
  are made (`Journal.write_out`: into anonymous files beside the summit's, copied into its one
  commit line at the commit, so the bytes are today's, and a killed import leaves nothing).
  The report's names go to disk too, and the summit is read from its file when next asked.

What still grows: a few bytes a line or an item (line starts, one byte a line placed, each
item's first line), and for an outline of sub-headings rather than list entries, its
top-level blocks and one note an item. A re-import into an existing summit holds the parsed
items, which it matches with the summit's.
"""

from __future__ import annotations

import bisect
import heapq
import marshal
import os
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, BinaryIO, Literal, overload

from markdown_it import MarkdownIt
from markdown_it.token import Token

from agenda import import_shapes as shapes
from agenda.brackets import bracket_count
from agenda.import_shapes import NO_TEXT, clean_title_text
from agenda.markdown import shift_headings
from agenda.model import OPEN_STATUSES, TRANSITIONS, AgendaError, Code, Delegation, Item, Status
from agenda.state import bulk
from agenda.templates import find_starter
from agenda.workspace import AddedItem, NewItem, SummitEntry, Workspace, check_text

DEFAULT_SECTION = "General"
MAX_TITLE = 500
MAX_DETAIL = 300

# The outline needs block tokens only; titles get their inline pass one at a time.
_BLOCKS = MarkdownIt("commonmark").enable("table").disable("inline")
_TITLE_WORDS = re.compile(r"\b(agenda|minutes|meeting|summit|session|conference|call|notes|"
                          r"sync|triage|workshop|retreat|assembly|committee)\b", re.I)
_DATE = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|"
                   r"dec)[a-z]*\.? \d{1,2}\b|\b\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|"
                   r"oct|nov|dec)", re.I)
_BARE_TITLE = re.compile(r"^\W*(agenda|minutes|notes|meeting notes|agenda items)\W*$", re.I)
_BLANK_RUNS = re.compile(r"\n{3,}")
_LISTS = ("bullet_list_open", "ordered_list_open")
_CONTAINERS = (*_LISTS, "list_item_open", "paragraph_open")

NoteKind = Literal["front matter", "title", "details", "preamble", "section text", "items",
                   "metadata", "unplaced", "warning"]


@dataclass(frozen=True, slots=True)
class SourceNote:
    """Lines of the source that are not an item's text or a section heading, and why."""

    kind: NoteKind
    line: int  # 1-based
    end: int  # 1-based, inclusive
    text: str
    reason: str

    @property
    def lines(self) -> str:
        return f"line {self.line}" if self.line == self.end else f"lines {self.line}–{self.end}"


@dataclass(frozen=True, slots=True)
class ParsedItem:
    section: str
    title: str
    text: str
    line: int  # 1-based line of its title
    span: tuple[int, int]  # 0-based [start, end) of the source lines it takes


@dataclass(frozen=True, slots=True)
class ParsedSection:
    title: str
    line: int  # 1-based; 0 for the implicit section of a document without section headings
    span: tuple[int, int] = (0, 0)  # 0-based [start, end) of its heading's lines


@dataclass
class ParsedAgenda:
    title: str | None
    front_matter: dict[str, str]
    sections: list[ParsedSection]
    items: list[ParsedItem]
    notes: Sequence[SourceNote]
    details: dict[str, str] = field(default_factory=dict)  # title, venue, dates, host
    preamble: str = ""

    @property
    def section_titles(self) -> list[str]:
        """Distinct section titles in order (a repeated heading continues the section)."""
        seen: dict[str, str] = {}
        for section in self.sections:
            seen.setdefault(section.title.casefold(), section.title)
        return list(seen.values())

    @property
    def bracketed(self) -> int:
        """Items whose text starts out with disputed brackets."""
        return sum(1 for item in self.items if bracket_count(item.text))


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


# Reading a file --------------------------------------------------------------------------

class NotText(AgendaError):
    """A file that is no UTF-8 text: where the first byte that says so is (`offset`, `byte`),
    or `byte` -1 for a NUL byte (at `offset`)."""

    def __init__(self, path: Path, offset: int, byte: int) -> None:
        self.path, self.offset, self.byte = path, offset, byte
        what = "contains NUL bytes" if byte < 0 else \
            f"is not UTF-8 text (byte 0x{byte:02x} at offset {offset})"
        super().__init__(f"{path} {what}; is it a binary file?")


_SEPARATOR = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


class SourceLines(Sequence[str]):
    """The lines of a UTF-8 file as the importer reads a text (split at CRLF, CR and LF,
    without a leading byte order mark), read from the file a window of lines at a time:
    a large agenda's text is never held whole, only where each line starts (8 bytes a
    line). Opening it reads the file once, refusing what is no UTF-8 text (`NotText`)."""

    WINDOW = 2048  # lines decoded at a time
    BLOCK = 1 << 20  # bytes read at a time when the file is opened
    KEPT = 4  # windows kept

    def __init__(self, path: Path) -> None:
        self.path = path
        self.starts = array("q", [0])
        self._windows: dict[int, list[str]] = {}
        self._first = 0  # the first line of the window last read
        self._current: list[str] = []
        # Kept open: the windows are read from the file that was checked, even if it is
        # replaced meanwhile.
        self._file = file = path.open("rb")
        try:
            self._read_starts(file)
        except BaseException:
            file.close()
            raise

    def close(self) -> None:
        self._file.close()

    def _read_starts(self, file: BinaryIO) -> None:
        path = self.path
        head = file.read(6)
        # `summit import` decoded with utf-8-sig, and the outline dropped one more.
        skip = 6 if head == _BOM * 2 else 3 if head.startswith(_BOM) else 0
        self.starts[0] = skip
        file.seek(skip)
        base, carry = skip, b""
        nul = -1  # the first NUL byte: refused after any byte that is no UTF-8
        while True:
            block = file.read(self.BLOCK)
            data = carry + block
            if block:
                # Up to the last line end, so that no line end or UTF-8 sequence is cut
                # in two; a CR last may be a CRLF's.
                limit = len(data) - 1 if data.endswith(b"\r") else len(data)
                cut = max(data.rfind(b"\n", 0, limit), data.rfind(b"\r", 0, limit)) + 1
                whole, carry = data[:cut], data[cut:]
            else:
                whole, carry = data, b""
            try:
                whole.decode("utf-8")
            except UnicodeDecodeError as error:
                raise NotText(path, base + error.start, whole[error.start]) from None
            found = whole.find(b"\x00")
            if nul < 0 and found >= 0:
                nul = base + found
            self.starts.extend(base + m.end() for m in _SEPARATOR.finditer(whole))
            base += len(whole)
            if not block:
                break
        if nul >= 0:
            raise NotText(path, nul, -1)
        self.size = base

    def __len__(self) -> int:
        return len(self.starts)

    def _window(self, number: int) -> list[str]:
        found = self._windows.get(number)
        if found is None:
            first = number * self.WINDOW
            last = min(first + self.WINDOW, len(self.starts))
            start = self.starts[first]
            end = self.starts[last] if last < len(self.starts) else self.size
            data = os.pread(self._file.fileno(), end - start, start)
            # Read as it was when opened (a file changed meanwhile is no reason to crash).
            found = _SEPARATOR_TEXT.split(data.decode("utf-8", errors="replace"))
            if last < len(self.starts):
                found.pop()  # the text after the window's last line end is the next window's
            if len(found) != last - first:  # changed since: as many lines as were counted
                found = (found + [""] * (last - first))[:last - first]
            if len(self._windows) >= self.KEPT:
                del self._windows[next(iter(self._windows))]
            self._windows[number] = found
        return found

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        # The outline reads a line at a time, mostly near the one before: the window last
        # read answers without a lookup.
        if index.__class__ is int:
            at = index - self._first  # type: ignore[operator,unused-ignore]
            if 0 <= at < len(self._current):
                return self._current[at]
        elif index.__class__ is slice and index.step is None:
            first = self._first
            start, stop = index.start, index.stop
            if start is not None and stop is not None and \
                    first <= start <= stop <= first + len(self._current):
                return self._current[start - first:stop - first]
        return self._get(index)

    def _get(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self.starts))
            if step != 1:
                return [self[n] for n in range(start, stop, step)]
            out: list[str] = []
            size = self.WINDOW
            while start < stop:  # a window's part at a time
                number, at = divmod(start, size)
                part = self._window(number)[at:at + stop - start]
                out += part
                start += len(part)
            return out
        if index < 0:
            index += len(self.starts)
        if not 0 <= index < len(self.starts):
            raise IndexError(index)
        number, at = divmod(index, self.WINDOW)
        found = self._windows.get(number)
        if found is None:
            found = self._window(number)
        self._first, self._current = number * self.WINDOW, found
        return found[at]


_SEPARATOR_TEXT = re.compile("\r\n|\r|\n")


# Parsing ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Block:
    type: str
    start: int
    end: int
    index: int  # of its opening token
    tag: str = ""  # its opening token's: a heading's level, "h2"


class _Lines:
    """A set of line numbers of one document, one byte a line (a set of 100k ints: ~7 MB)."""

    def __init__(self, size: int) -> None:
        self.marks = bytearray(size)

    def __contains__(self, line: int) -> bool:
        return 0 <= line < len(self.marks) and bool(self.marks[line])

    def add(self, line: int) -> None:
        if 0 <= line < len(self.marks):  # no line outside the document is ever asked about
            self.marks[line] = 1

    def discard(self, line: int) -> None:
        if 0 <= line < len(self.marks):
            self.marks[line] = 0

    def update(self, lines: Iterable[int]) -> None:
        if isinstance(lines, range) and lines.step == 1:
            start, stop = max(lines.start, 0), min(lines.stop, len(self.marks))
            if start < stop:
                self.marks[start:stop] = b"\x01" * (stop - start)
            return
        for line in lines:
            self.add(line)


# Paragraphs whose first lines' inline tokens are kept for a second reading (a bold line
# standing alone is read twice); beyond, they are read again rather than held.
_CACHED = 4096

# A chunk of the document parsed at a time: at least this many lines, up to a heading.
_CHUNK_LINES = 2048
_ATX = re.compile(r"#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_ENTRY = re.compile(r" {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")


class _OpenList:
    """A top-level list cut across chunks, while its end is not read yet."""

    __slots__ = ("chunk", "index", "loose", "parts")

    def __init__(self, chunk: int, index: int) -> None:
        self.chunk, self.index = chunk, index  # its opening token's chunk and index there
        self.loose = False
        self.parts: list[tuple[int, int, int]] = []  # tight parts: (chunk, first, end token)


class _Tokens(Sequence[Token]):
    """The document's block tokens (markdown-it's, maps and indexes as a parse of the whole
    document gives them), parsed a chunk at a time; the last two chunks read are kept.

    The document is cut before top-level headings and before the entries of top-level lists,
    each cut checked by the parse that reads the chunk: the line after it must come out as
    a heading of level 0, which means no block was open across it (a fence, an HTML block, a
    list or a quote), or as a further entry of the top-level list open there. Block parsing
    only looks ahead within a block, so the chunk's tokens are the whole document's, and the
    rest of the document parses as if it began there. A list cut across chunks is mended:
    its closing token at the cut and its opening one after it are dropped, its opening token
    is told where the list ends, and if any part of it is loose (markdown-it's word for
    paragraphs apart) the paragraphs of the tight parts are shown (`hidden`), as in one
    parse. A cut that fails its check moves to the next candidate; after a few, the rest of
    the document is one chunk.
    """

    def __init__(self, lines: Sequence[str], fm_end: int,
                 read: Callable[[int, int, int, list[Token], dict[str, Any], int], None],
                 ended: Callable[[int, int], None]) -> None:
        """Parse the document, handing each chunk to `read` (its lines [start, stop), the
        index of its first token, its tokens, its link definitions, and the line up to which
        it continues a list cut before it) as it is read; `ended` is told of a list cut
        across chunks, once its end is read: its opening token's index and its end line."""
        self.lines = lines
        self.fm_end = fm_end  # the front matter's lines are parsed as blank
        self.bounds: list[tuple[int, int]] = []  # each chunk's lines [start, stop)
        self.offsets: list[int] = []  # each chunk's first token's index in the document
        self.cuts: list[str] = []  # what each chunk is cut before: "heading", "entry", ""
        self.ends: dict[int, tuple[int, int]] = {}  # chunk -> (token, its list's end line)
        self.shown: dict[int, list[tuple[int, int]]] = {}  # chunk -> tokens to show paras
        self._kept: dict[int, list[Token]] = {}
        self._last: tuple[int, int, list[Token]] = (0, 0, [])  # first index, end, tokens
        self._open: _OpenList | None = None
        total = 0
        start = 0
        while start < len(lines):
            self._drop()  # one chunk's tokens at a time, not two
            chunk = len(self.bounds)
            tokens, stop, references, cut = self._next_chunk(start)
            self.bounds.append((start, stop))
            self.offsets.append(total)
            self.cuts.append(cut)
            lead = self._mend(chunk, tokens, cut, ended)
            read(start, stop, total, tokens, references, lead)
            self._keep(chunk, tokens)
            total += len(tokens)
            start = stop
        self.total = total

    def _text(self, start: int, stop: int) -> str:
        fm_end = self.fm_end
        if start >= fm_end:
            return "\n".join(self.lines[start:stop])
        return "\n".join([""] * (min(fm_end, stop) - start) +
                         list(self.lines[max(fm_end, start):stop]))

    def _parse(self, start: int, stop: int, cut: str,
               ) -> tuple[list[Token], dict[str, Any], bool]:
        """The tokens of lines [start, stop), parsed with the line at `stop` (if there is
        one) which must come out as `cut` says, a heading of level 0 or a further entry of
        the top-level list open there (True then, and its tokens dropped, with the list's
        closing token); maps numbered as in the document. A chunk after an entry cut starts
        with its list's opening token, which the caller drops."""
        more = stop < len(self.lines)
        text = self._text(start, stop + 1 if more else stop)
        env: dict[str, Any] = {}
        # An outline of plain headings, entries and paragraphs (a large generated agenda)
        # needs no parser: the same tokens, at a fraction of the cost.
        fast = shapes.fast_blocks(text)
        tokens = fast if fast is not None else _BLOCKS.parse(text, env)
        if more:
            at = stop - start
            if cut == "heading":
                heading = tokens[-3] if len(tokens) >= 3 else None
                if heading is None or heading.type != "heading_open" or heading.level != 0 \
                        or heading.map != [at, at + 1]:
                    return tokens, {}, False
                del tokens[-3:]
            else:
                entry = _last_entry(tokens, at)
                if entry is None:
                    return tokens, {}, False
                del tokens[entry:]
        references = env.get("references", {})
        if start:
            for token in tokens:
                if token.map:
                    token.map = [token.map[0] + start, token.map[1] + start]
            for label, reference in references.items():
                if isinstance(reference, dict) and reference.get("map"):
                    found = reference["map"]
                    references[label] = {**reference, "map": [found[0] + start,
                                                              found[1] + start]}
        return tokens, references, True

    def _next_chunk(self, start: int) -> tuple[list[Token], int, dict[str, Any], str]:
        lines = self.lines
        fence = None  # a heading in what looks like a fence makes no cut: skip it early
        tries = 0
        for n in range(start + 1, len(lines)):
            line = lines[n]
            opened = _FENCE.match(line)
            if opened is not None:
                fence = None if fence == opened.group(1) else fence or opened.group(1)
                continue
            if fence is not None or n - start < _CHUNK_LINES or n < self.fm_end:
                continue
            if _ATX.match(line):
                cut = "heading"
            elif _ENTRY.match(line) and lines[n - 1].strip():
                # A blank line before the entry would make the list loose: no cut there.
                cut = "entry"
            else:
                continue
            tokens, references, ok = self._parse(start, n, cut)
            if ok and (cut == "heading" or self._tight_part(tokens)):
                return tokens, n, references, cut
            tries += 1
            if tries >= 8:
                break
        tokens, references, _ = self._parse(start, len(lines), "")
        return tokens, len(lines), references, ""

    def _leads(self, chunk: int) -> bool:
        """Whether the chunk starts inside a list cut before it."""
        return chunk > 0 and self.cuts[chunk - 1] == "entry"

    def _tight_part(self, tokens: list[Token]) -> bool:
        """Whether the part of a list before an entry cut is known to be tight: a cut list
        is mended only then (a loose part, or one without paragraphs to tell, is no cut).
        The list is the last one opened (a list begun before the chunk opens it again)."""
        return _part_tight(tokens, _last_open(tokens) + 1, len(tokens)) is True

    def _mend(self, chunk: int, tokens: list[Token], cut: str,
              ended: Callable[[int, int], None]) -> int:
        """Mend a list cut across chunks as the chunk is first read (see the class); the line
        up to which the chunk continues a list cut before it (its start if none)."""
        lead = self.bounds[chunk][0]
        if self._leads(chunk):
            opening = tokens[0]
            assert opening.map is not None and self._open is not None
            lead = opening.map[1]
            del tokens[0]
            close = _level0_close(tokens)
            listed = self._open
            if close is not None:
                tight = _part_tight(tokens, 0, close)
                if tight is None:
                    tight = self._probe(opening, chunk, close)
                if not tight:
                    listed.loose = True
                self._end_list(listed, lead, chunk, tokens, ended)
                if listed.loose and tight:
                    self._show(chunk, 0, close, tokens)
                self._open = None
            else:
                listed.parts.append((chunk, 0, len(tokens)))
        if cut == "entry" and self._open is None:
            opened = _last_open(tokens)
            self._open = _OpenList(chunk, opened)
            self._open.parts.append((chunk, opened + 1, len(tokens)))
        return lead

    def _probe(self, opening: Token, chunk: int, close: int) -> bool:
        """Whether the last part of a cut list (one without paragraphs to tell) is tight:
        read after an entry of one line, whose paragraph markdown-it shows only if not."""
        start = self.bounds[chunk][0]
        end = opening.map[1] if opening.map else start
        first = self.lines[start]
        indent = first[:len(first) - len(first.lstrip(" "))]
        marker = opening.markup if opening.type == "bullet_list_open" else f"1{opening.markup}"
        text = "\n".join([f"{indent}{marker} x", *self.lines[start:end]])
        tokens = _BLOCKS.parse(text, {})
        return bool(_part_tight(tokens, 1, _level0_close(tokens) or len(tokens)))

    def _end_list(self, listed: _OpenList, end: int, chunk: int, tokens: list[Token],
                  ended: Callable[[int, int], None]) -> None:
        self.ends[listed.chunk] = (listed.index, end)
        self._kept.pop(listed.chunk, None)
        ended(self.offsets[listed.chunk] + listed.index, end)
        if listed.loose:
            for part_chunk, first, last in listed.parts:
                self.shown.setdefault(part_chunk, []).append((first, last))
                self._kept.pop(part_chunk, None)

    def _show(self, chunk: int, first: int, last: int, tokens: list[Token]) -> None:
        self.shown.setdefault(chunk, []).append((first, last))
        _show_paragraphs(tokens, first, last)

    def _drop(self) -> None:
        self._kept, self._last = {}, (0, 0, [])

    def _keep(self, chunk: int, tokens: list[Token]) -> None:
        # The outline reads the chunks in order, a list's entries sometimes one behind the
        # walk over them: two are enough.
        kept = {k: v for k, v in self._kept.items() if k == chunk - 1 or k == chunk + 1}
        kept[chunk] = tokens
        self._kept = kept
        self._last = (0, 0, [])

    def _tokens(self, chunk: int) -> list[Token]:
        tokens = self._kept.get(chunk)
        if tokens is None:
            start, stop = self.bounds[chunk]
            tokens = self._parse(start, stop, self.cuts[chunk])[0]
            if self._leads(chunk):
                del tokens[0]
            if chunk in self.ends:
                index, end = self.ends[chunk]
                opening = tokens[index]
                assert opening.map is not None
                opening.map = [opening.map[0], end]
            for first, last in self.shown.get(chunk, ()):
                _show_paragraphs(tokens, first, last)
            self._keep(chunk, tokens)
        return tokens

    def walk(self, start: int) -> Iterator[tuple[int, Token]]:
        """The tokens from index `start` on, with their indexes: a chunk at a time, without
        looking each one up."""
        index = start
        while index < self.total:
            chunk = bisect.bisect_right(self.offsets, index) - 1
            tokens = self._tokens(chunk)
            first = self.offsets[chunk]
            for at in range(index - first, len(tokens)):
                yield first + at, tokens[at]
            index = first + len(tokens)

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> Token: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Token]: ...
    def __getitem__(self, index: int | slice) -> Token | Sequence[Token]:
        if isinstance(index, slice):
            raise TypeError("the tokens are read one at a time")
        first, end, tokens = self._last
        if not first <= index < end:
            if not 0 <= index < self.total:
                raise IndexError(index)
            chunk = bisect.bisect_right(self.offsets, index) - 1
            tokens = self._tokens(chunk)
            first = self.offsets[chunk]
            self._last = (first, first + len(tokens), tokens)
        return tokens[index - first]


def _last_entry(tokens: list[Token], at: int) -> int | None:
    """The index of the entry at line `at` (the last line parsed), if it is a further entry
    of the top-level list open before it, else None."""
    if not tokens or tokens[-1].level != 0 or tokens[-1].nesting != -1 or \
            not tokens[-1].type.endswith("_list_close"):
        return None
    for index in range(len(tokens) - 2, 0, -1):
        token = tokens[index]
        if token.level == 1 and token.type == "list_item_open":
            before = tokens[index - 1]
            if token.map is None or token.map[0] != at or before.level != 1 or \
                    before.type != "list_item_close":
                return None
            return index
    return None


def _last_open(tokens: list[Token]) -> int:
    """The index of the last opening token of level 0 (the list an entry cut is in)."""
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index].level == 0 and tokens[index].nesting == 1:
            return index
    raise ValueError("no block is open")


def _level0_close(tokens: list[Token]) -> int | None:
    return next((n for n, t in enumerate(tokens) if t.level == 0 and t.nesting == -1), None)


def _part_tight(tokens: list[Token], first: int, last: int) -> bool | None:
    """Whether the top-level list's paragraphs among tokens[first:last] are hidden (a tight
    list's); None if it has none to tell."""
    for index in range(first, last):
        token = tokens[index]
        if token.level == 2 and token.type == "paragraph_open":
            return token.hidden
    return None


def _show_paragraphs(tokens: list[Token], first: int, last: int) -> None:
    for index in range(first, last):
        token = tokens[index]
        if token.level == 2 and token.type in ("paragraph_open", "paragraph_close"):
            token.hidden = False


@dataclass(slots=True)
class _Counted:
    """What `_list_kind` counts of a list's entries (their titles are not kept)."""

    titles: int = 0
    names: int = 0
    marked: int = 0
    links: bool = True  # every entry is links only
    keys: bool = True  # every entry is a `Key: value` of a meeting detail


@dataclass(slots=True)
class _Draft:
    """An item while the outline is read: blocks after it may still join its text."""

    section: str
    title: str
    first: int
    end: int
    parts: list[str]


class _Drafts:
    """The outline's items as it reads them. Only the last one made can still grow (the
    blocks after it, up to the next item, join its text): each earlier one is finished and
    handed on as the next is made, so the drafts of 100k entries are never held at once."""

    def __init__(self, finish: Callable[[_Draft], None]) -> None:
        self.finish = finish
        self.last: _Draft | None = None
        self.count = 0
        self.firsts = array("i")  # each draft's first line, four bytes an item

    def append(self, draft: _Draft) -> None:
        if self.last is not None:
            self.finish(self.last)
        self.last = draft
        self.count += 1
        self.firsts.append(draft.first)

    def close(self) -> None:
        if self.last is not None:
            self.finish(self.last)
            self.last = None

    def first(self, index: int) -> int:
        return self.firsts[index]

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> _Draft:
        if self.last is None or index not in (-1, self.count - 1):
            raise IndexError(index)  # only the last draft is still open
        return self.last


class _Outline:
    """One pass over the block tokens, turning line ranges into details, sections and items."""

    def __init__(self, source: str | SourceLines, *, depth: int = 1,
                 literal_brackets: bool = False, title_heading: bool = True,
                 sink: Callable[[ParsedItem], None] | None = None,
                 spill_to: Path | None = None) -> None:
        self.title_heading = title_heading
        self.spill_to = spill_to  # the folder of what waits on disk (else the temporary one)
        self.items: list[ParsedItem] = []
        # Items go to `sink` as each is finished (an import writes them out), or are kept.
        self.sink = sink or self.items.append
        # The finished items' own notes, reported last: one an item at most, on disk when
        # the items are (an agenda of one-line entries has a note for each).
        self.late_notes: list[SourceNote] | _OnDisk = [] if sink is None else \
            _OnDisk(_note_from, spill_to)
        self.late_in_order = True  # by line, as the drafts are made
        self.last_late = (0, 0)
        if isinstance(source, str):
            text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
            text = text.removeprefix("\ufeff")
            self.lines: Sequence[str] = text.split("\n")
        else:
            self.lines = source
        self.depth = max(1, depth)
        self.literal = literal_brackets
        self.front_matter, fm_end = shapes.front_matter(self.lines)
        self.fm_end = fm_end
        # The block tokens, a chunk of the document at a time: those of the whole document at
        # once were most of an outline's memory (100k entries: about 110 MB).
        self.references: dict[str, Any] = {}
        self.blocks: list[_Block] = []
        self.definitions: dict[str, int] = {}
        # A list's entries' titles as its first reading makes them, read back in order by its
        # second (`_list_items`): on disk, whatever the list's length.
        self._plains: Iterator[tuple[int, str, bool]] = iter(())
        self._plain_next: tuple[int, str, bool] | None = None
        # The top-level lists' entries counted for `_list_kind` (by each list's opening
        # token) and their titles made, as the chunks are first read: the outline need not
        # read a list twice. Unless a definition read later may change a title made before.
        self._counts: dict[int, _Counted] = {}
        self._counting: _Counted | None = None
        self._titles_ahead = _OnDisk(folder=spill_to)
        self._refs_seen = -1  # definitions known when a title that may use one was made
        self.tokens = _Tokens(self.lines, fm_end, self._read_chunk, self._list_ended)
        self._precounted = self._refs_seen < 0 or self._refs_seen == len(self.references)
        if self._precounted:
            self._plains = iter(self._titles_ahead)
            self._plain_next = next(self._plains, None)
        else:
            self._counts.clear()
        self.starts = [b.start for b in self.blocks]
        # Definition lines travel with the texts that use them, not with the text they follow.
        self.defined = set(self.definitions.values())
        self.used = _Lines(len(self.lines))
        self._inlines: dict[int, list[Token]] = {}  # parsed once: lists are read twice
        self._firsts: dict[int, list[Token]] = {}
        self._starting = {b.start: b for b in self.blocks}
        self.notes: list[SourceNote] = []
        self.sections: list[ParsedSection] = []
        self.drafts = _Drafts(self._hand_on)
        self.title: str | None = None
        self.details: dict[str, list[str]] = {}
        self.preamble: list[tuple[int, str]] = []  # (source line, Markdown) in source order
        self.section_level = 1
        self.headed: set[str] = set()  # sections whose name the preamble shows already
        if fm_end:
            self._note("front matter", 0, fm_end, "front matter: the summit's details, the "
                                                  "other keys in the preamble")
            self._front_matter_details()

    def _read_chunk(self, start: int, stop: int, offset: int, tokens: list[Token],
                    references: dict[str, Any], lead: int) -> None:
        """What the outline needs of the whole document, from a chunk as it is parsed: its
        top-level blocks, and the link definitions (which apply everywhere). Its lines
        before `lead` are a list's begun in an earlier chunk."""
        for name, reference in references.items():
            self.references.setdefault(name, reference)  # the first wins, as in markdown-it
        blocks = [_Block(t.type, t.map[0], t.map[1], offset + i, t.tag)
                  for i, t in enumerate(tokens) if t.level == 0 and t.nesting >= 0 and t.map]
        self.blocks.extend(blocks)
        covered = {n for b in blocks for n in range(b.start, b.end)}
        covered.update(range(start, lead))
        counting = self._counting  # a list cut before this chunk goes on in it
        last = len(tokens) - 1
        for i, token in enumerate(tokens):
            if token.level == 0:
                if token.nesting == 1 and token.type in _LISTS:
                    counting = self._counts[offset + i] = _Counted()
                elif token.nesting == -1:
                    counting = None
            elif counting is not None and token.level == 1 and token.map and \
                    token.type == "list_item_open" and i < last:
                self._count_entry(counting, offset + i, token, tokens[i + 1],
                                  tokens[i + 2] if i + 2 <= last else None,
                                  self._titles_ahead, True)
        self._counting = counting
        # Link definitions leave no token: find them among the lines no block took.
        starts = {b.start for b in blocks if b.type == "paragraph_open"}
        for n in range(max(self.fm_end, start), stop):
            line = self.lines[n]
            # Footnotes (`[^1]: text`) are no CommonMark definitions: they parse as paragraphs.
            footnote = n in starts and line.startswith("[^")
            label = shapes.definition_label(line) if n not in covered or footnote else None
            if label is not None:
                self.definitions.setdefault(label, n)

    def _list_ended(self, index: int, end: int) -> None:
        """A list cut across chunks ends at line `end`: its block says so."""
        for n in range(len(self.blocks) - 1, -1, -1):
            block = self.blocks[n]
            if block.index == index:
                self.blocks[n] = _Block(block.type, block.start, end, index, block.tag)
                return
        raise AssertionError(f"no block opens at token {index}")

    # Helpers ---------------------------------------------------------------------------------

    def _text(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end]).strip("\n")

    def _note(self, kind: NoteKind, start: int, end: int, reason: str) -> None:
        """Account for lines [start, end) in the report (trimmed of blank edges)."""
        while start < end and not self.lines[start].strip():
            start += 1
        while end > start and not self.lines[end - 1].strip():
            end -= 1
        if start >= end:
            return
        self.used.update(range(start, end))
        self.notes.append(SourceNote(kind, start + 1, end, self._text(start, end), reason))

    def _inline(self, index: int) -> list[Token]:
        """The inline tokens of the block opened at `index` (a heading or paragraph)."""
        found = self._inlines.get(index)
        if found is None:
            inline = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
            found = [] if inline is None or inline.type != "inline" else \
                shapes.inline_tokens(inline.content, self.references)
            self._inlines[index] = found
        return found

    def _first_inline(self, index: int, *, keep: bool = True) -> list[Token]:
        """The inline tokens of the first line of the paragraph opened at `index`: a list
        entry's title, without parsing the text under it (kept unless `keep` is False)."""
        found = self._firsts.get(index)
        if found is None:
            inline = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
            found = [] if inline is None or inline.type != "inline" else \
                shapes.inline_tokens(inline.content.split("\n", 1)[0], self.references)
            if keep and len(self._firsts) < _CACHED:
                self._firsts[index] = found
        return found

    def _first_plain(self, index: int) -> shapes.Inline:
        """The plain text of `_first_inline(index)`, up to its first break: as the list's
        first reading made it, if it did."""
        ahead = self._plain_next
        while ahead is not None and ahead[0] < index:
            ahead = next(self._plains, None)
        if ahead is not None and ahead[0] == index:
            self._plain_next = next(self._plains, None)
            return shapes.Inline(ahead[1], ahead[2])
        self._plain_next = ahead
        return shapes.plain(self._first_inline(index, keep=False), first_line=True)

    def _raw_inline(self, index: int) -> str:
        inline = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        return inline.content if inline is not None and inline.type == "inline" else ""

    def _title(self, raw: str, line: int, fallback: str) -> tuple[str, bool]:
        """A usable one-line title, and whether it was shortened (the full one goes in the
        text)."""
        title = clean_title_text(raw)
        if not title:
            self.notes.append(SourceNote("warning", line + 1, line + 1, self.lines[line],
                                         f"no title text; named {fallback!r}"))
            return fallback, False
        short = shapes.shorten(title)
        if short != title:
            self.notes.append(SourceNote("warning", line + 1, line + 1, title[:80] + "…",
                                         "long title shortened; in full in the item's text"))
        return short, short != title

    def _heading_level(self, block: _Block) -> int:
        return int(block.tag[1])

    def _between(self, start: int, stop: int) -> list[_Block]:
        return self.blocks[bisect.bisect_left(self.starts, start):
                           bisect.bisect_left(self.starts, stop)]

    # Details and preamble --------------------------------------------------------------------

    def _detail(self, key: str, value: str) -> bool:
        """Take a `key: value` as one of the summit's details; False if it is not one."""
        name = shapes.detail_of(key)
        value = shapes.one_line(value)
        if name is None or not value:
            return False
        values = self.details.setdefault(name, [])
        if value not in values:
            if len("; ".join([*values, value])) > MAX_DETAIL:
                return False
            values.append(value)
        return True

    def _front_matter_details(self) -> None:
        rest = []
        for key, value in self.front_matter.items():
            if not self._detail(key, value):
                rest.append(f"- **{key}**: {value}" if value else f"- **{key}**")
        if rest:
            self.preamble.append((0, "\n".join(rest)))

    def _key_line(self, line: str, *, bold_only: bool) -> bool:
        """Take a key line as a detail (or skip the export's own); False to keep it as text."""
        found = shapes.key_line(line, bold_only=bold_only)
        if found is None:
            return False
        key, value = found
        if " ".join(key.lower().split()) in shapes.EXPORT_KEYS:
            return True
        return self._detail(key, shapes.plain_text(value, urls=True))

    def _to_preamble(self, blocks: Sequence[_Block], stop: int, shift: int,
                     heading: str | None = None, heading_line: int = 0,
                     reason: str = "kept in the summit's preamble",
                     heading_lines: range = range(0)) -> None:
        """Blocks that are no item: their details taken, the rest kept as the preamble."""
        kept: list[int] = []
        for n, block in enumerate(blocks):
            end = blocks[n + 1].start if n + 1 < len(blocks) else stop
            lines = range(block.start, end)
            if block.type == "paragraph_open":
                for line in range(block.start, block.end):
                    if self._key_line(self.lines[line], bold_only=True):
                        self._note("details", line, line + 1, "a meeting detail")
                    else:
                        kept.append(line)
                kept.extend(range(block.end, end))
                continue
            if block.type == "bullet_list_open":
                taken = self._key_list(block)
                kept.extend(n for n in lines if n not in taken)
                continue
            if block.type == "table_open" and shapes.plain_text(self.lines[block.start]) \
                    .replace(" ", "") == "|Delegation|Headofdelegation|":
                self._note("metadata", block.start, block.end,
                           "the export's table of delegations (the summit's own)")
                kept.extend(range(block.end, end))
                continue
            kept.extend(lines)
        kept = [n for n in kept if n not in self.used and n not in self.defined]
        if not kept and heading is None:
            return
        body = shift_headings([self.lines[n] for n in kept], shift)
        if heading is not None and heading not in self.headed:
            self.headed.add(heading)
            body = [f"# {heading}", "", *body]
        text = "\n".join(line.rstrip() for line in body).strip("\n")
        text = _BLANK_RUNS.sub("\n\n", text)
        if text.strip():
            self.preamble.append((heading_line if heading is not None else kept[0], text))
        self.used.update(heading_lines)
        runs: list[tuple[int, int]] = []
        for start, end in _runs([*heading_lines, *kept]):
            if runs and not any(self.lines[n].strip() for n in range(runs[-1][1], start)):
                runs[-1] = (runs[-1][0], end)  # one note across blank lines
            else:
                runs.append((start, end))
        for start, end in runs:
            self._note("preamble", start, end, reason)

    def _key_list(self, block: _Block) -> set[int]:
        """Lines of a list's one-line `Key: value` items taken as details."""
        taken: set[int] = set()
        for _index, token in self.tokens.walk(block.index):
            if token.type.endswith("_list_close") and token.level == 0:
                break
            if token.type != "list_item_open" or token.level != 1 or not token.map:
                continue
            start, end = token.map
            while end > start + 1 and not self.lines[end - 1].strip():
                end -= 1
            if end == start + 1 and self._key_line(self.lines[start], bold_only=False):
                self._note("details", start, end, "a meeting detail")
                taken.add(start)
        return taken

    # Outline -----------------------------------------------------------------------------------

    def _title_block(self, headings: list[_Block]) -> _Block | None:
        """The summit's title: the one top heading, or a first heading that reads as one."""
        if not headings or not self.title_heading:
            return None
        levels = [self._heading_level(h) for h in headings]
        first, top = headings[0], min(levels)
        if levels[0] == top and levels.count(top) == 1 and (top == 1 or len(headings) > 1):
            return first
        text = shapes.plain_text(self._raw_inline(first.index))
        before = [b for b in self.blocks if b.start < first.start]
        if any(not self._furniture(b) for b in before) or _BARE_TITLE.match(text):
            return None
        if not (_TITLE_WORDS.search(text) or _DATE.search(text)):
            return None
        after = next((b for b in self.blocks if b.start >= first.end), None)
        if after is not None and after.type in ("ordered_list_open", "table_open"):
            return None
        return first

    def _furniture(self, block: _Block) -> bool:
        """Blocks before a title that say nothing: rules, HTML, badges and logos."""
        if block.type in ("hr", "html_block"):
            return True
        if block.type == "paragraph_open":
            children = self._inline(block.index)
            return all(t.type in ("image", "softbreak", "hardbreak") or
                       (t.type == "text" and not t.content.strip()) for t in children)
        return False

    def run(self) -> ParsedAgenda:
        headings = [b for b in self.blocks if b.type == "heading_open"]
        title = self._title_block(headings)
        if title is not None:
            raw = shapes.plain(self._inline(title.index)).text
            self.title = shapes.clean_title_text(raw) or None
            if self.title is not None:
                self.title = self.title[:MAX_TITLE]
            self._note("title", title.start, title.end, "the summit's title")
            headings = [h for h in headings if h is not title]
        end = len(self.lines)
        skip = {title.start} if title is not None else set()
        if not headings:
            start = title.end if title is not None else self.fm_end
            self._section(DEFAULT_SECTION, None, start, end, implicit=True)
        else:
            self.section_level = min(self._heading_level(h) for h in headings)
            tops = [h for h in headings if self._heading_level(h) == self.section_level]
            intro = [b for b in self._between(self.fm_end, tops[0].start) if b.start not in skip]
            # Headings before the first section sit below the section level: one level up
            # less than a section's, so the export (which puts the preamble two levels
            # down) reads back as it was.
            self._to_preamble(intro, tops[0].start, -self.section_level)
            for n, heading in enumerate(tops):
                stop = tops[n + 1].start if n + 1 < len(tops) else end
                self._section_at(heading, stop)
                # Nothing reads a section's inline tokens again (100k item headings).
                self._inlines.clear()
        named = self.details.pop("title", [])
        if self.title is None and named:
            self.title = named[0][:MAX_TITLE]
            for n in range(1, self.fm_end - 1):
                if shapes.detail_of(self.lines[n].partition(":")[0].strip()) == "title":
                    self.notes.append(SourceNote("title", n + 1, n + 1, self.lines[n],
                                                 "the summit's title (front matter)"))
        elif named and named[0] != self.title:
            line = f"- **title**: {named[0]}"
            if self.preamble and self.preamble[0][0] == 0:
                self.preamble[0] = (0, f"{line}\n{self.preamble[0][1]}")
            else:
                self.preamble.insert(0, (0, line))
        self._place_definitions()
        self._leftovers(0, end)
        # Nothing reads the tokens after the sections: the last chunk's go before the
        # items are made. Each draft's parts are dropped as its text is made: drafts and
        # finished items were held whole side by side, the parse's peak.
        self.tokens._drop()
        self.drafts.close()
        items, self.items = self.items, []
        sections = self.sections if self.drafts.count else []
        preamble = self._with_definitions(
            "\n\n".join(text for _, text in sorted(self.preamble, key=lambda p: p[0])))
        details = {k: "; ".join(v) for k, v in self.details.items()}
        return ParsedAgenda(self.title, self.front_matter, sections, items, self._all_notes(),
                            details, preamble)

    def _all_notes(self) -> Sequence[SourceNote]:
        """The notes by line; the items' own after the others of a line (a stable sort of
        them all), on disk if they were."""
        late = self.late_notes
        if isinstance(late, list):
            return sorted([*self.notes, *late], key=_note_key)
        if not self.late_in_order:
            return sorted([*self.notes, *late], key=_note_key)
        return _Merged(sorted(self.notes, key=_note_key), late)

    def _hand_on(self, draft: _Draft) -> None:
        self.sink(self._finish(draft))
        draft.parts = []

    def _leftovers(self, start: int, end: int) -> None:
        """Report every run of non-blank lines in [start, end) that nothing has taken."""
        free = [n for n in range(start, end) if n not in self.used and self.lines[n].strip()]
        for run_start, run_end in _runs(free):
            self._note("unplaced", run_start, run_end, "not placed")

    def _place_definitions(self) -> None:
        """Link definitions go with the texts that use them; their own lines are reported."""
        lines = sorted(n for n in self.definitions.values() if n not in self.used)
        for start, stop in _runs(lines):
            self._note("metadata", start, stop, "link definitions: copied into the texts that "
                                                "use them")

    def _section_at(self, heading: _Block, stop: int) -> None:
        inline = shapes.plain(self._inline(heading.index))
        raw = inline.text
        if inline.lossy:
            self.notes.append(SourceNote("warning", heading.start + 1, heading.end,
                                         self._raw_inline(heading.index),
                                         "section title without its links or HTML"))
        title, long = self._title(raw, heading.start,
                                  f"Untitled section (line {heading.start + 1})")
        if long:
            self.notes.append(SourceNote("warning", heading.start + 1, heading.start + 1,
                                         clean_title_text(raw), "long section title shortened"))
        self._section(title, heading, heading.end, stop)

    def _section(self, title: str, heading: _Block | None, start: int, stop: int, *,
                 implicit: bool = False) -> None:
        """A section: the items its sub-headings, lists and tables make, and its text."""
        blocks = self._between(start, stop)
        inner = [b for b in blocks if b.type == "heading_open"]
        item_level = min((self._heading_level(h) for h in inner), default=0)
        made = len(self.drafts)
        notes_before = len(self.notes)
        intro: list[_Block] = []
        asides: list[tuple[list[_Block], int, str]] = []  # sub-headings that are no item
        current: _Draft | None = None
        n = 0
        while n < len(blocks):
            block = blocks[n]
            following = blocks[n + 1].start if n + 1 < len(blocks) else stop
            if block.type == "heading_open" and self._heading_level(block) == item_level:
                after = next((b.start for b in blocks[n + 1:] if b.type == "heading_open" and
                              self._heading_level(b) == item_level), stop)
                group = [b for b in blocks[n:] if b.start < after]
                why = shapes.not_agenda_heading(self._raw_inline(block.index))
                if why is not None and heading is not None and not \
                        any(b.type == "heading_open" for b in group[1:]):
                    asides.append((group, after, why))
                    self.used.update(range(block.start, block.end))
                else:
                    current = self._heading_item(title, block, after, item_level)
                    self.notes.append(SourceNote(
                        "items", block.start + 1, block.end, self.lines[block.start],
                        f"a sub-heading of section {title!r}: taken as an item"))
                n += len(group)
                continue
            if block.type == "paragraph_open" and self._bold_heading(block) is not None:
                # A bold line standing alone, "**3. Trade**", is a sub-heading in all but
                # name: an item, with what follows up to the next such line as its text.
                after = next((b.start for b in blocks[n + 1:] if
                              (b.type == "heading_open" and
                               self._heading_level(b) == item_level) or
                              (b.type == "paragraph_open" and
                               self._bold_heading(b) is not None)), stop)
                current = self._bold_item(title, block, after)
                self._note_once("items", block, "a bold line standing alone: taken as an item")
                while n + 1 < len(blocks) and blocks[n + 1].start < after:
                    n += 1
                n += 1
                continue
            if block.type == "paragraph_open" and self._timed_lines(block):
                before = len(self.drafts)
                for line in range(block.start, block.end):
                    self._timed_item(title, line)
                self._note_once("items", block, "lines that each start with a time: one item "
                                                "per line")
                current = self.drafts[-1] if len(self.drafts) > before else current
                n += 1
                continue
            if block.type in _LISTS:
                # What names the list: the heading or the "Attendees:" line just above it.
                above = blocks[n - 1] if n else None
                label = title
                if above is not None and (above.type == "heading_open" or (
                        above.type == "paragraph_open" and
                        self.lines[above.end - 1].rstrip().rstrip("*_").endswith(":"))):
                    label = shapes.plain_text(self._raw_inline(above.index))
                why = self._list_kind(label, block, implicit)
                if why is None:
                    before = len(self.drafts)
                    self._list_items(title, block, following)
                    kind = "numbered" if block.type == "ordered_list_open" else "bulleted"
                    count = len(self.drafts) - before
                    self._note_once("items", block, f"a {kind} list: its {count} "
                                    f"entr{'y' if count == 1 else 'ies'} taken as items")
                    current = self.drafts[-1] if len(self.drafts) > before else current
                    n += 1
                    continue
                self._note_once("items", block, f"{why}: kept as text, not as items")
            elif block.type in ("table_open", "html_block"):
                before = len(self.drafts)
                self._table_items(title, block, following)
                if len(self.drafts) > before:
                    current = self.drafts[-1]
                    n += 1
                    continue
            if current is not None:
                self._attach(current, block.start, following)
            else:
                intro.append(block)
            n += 1
        if implicit:
            first_item = self.drafts.first(made) if len(self.drafts) > made else stop
            self._to_preamble(intro, first_item, 0)
            if len(self.drafts) > made:
                self.sections.append(ParsedSection(title, 0, (0, 0)))
            return
        assert heading is not None
        if len(self.drafts) == made:
            # No items: the whole section, heading and all, joins the preamble; one note
            # says so, and what its lists were.
            whys = [n.reason.split(":")[0] for n in self.notes[notes_before:]
                    if n.kind == "items"]
            self.notes[notes_before:] = [n for n in self.notes[notes_before:]
                                         if n.kind != "items"]
            end = min([group[0].start for group, _, _ in asides] + [stop])
            kinds = f" ({', '.join(dict.fromkeys(whys))})" if whys else ""
            self._to_preamble(intro, end, 1 - self.section_level, title, heading.start,
                              f"section {title!r} has no agenda items{kinds}: it is kept in "
                              "the preamble", heading_lines=range(heading.start, heading.end))
            self._asides(title, heading, asides)
            return
        self.used.update(range(heading.start, heading.end))
        self.sections.append(ParsedSection(title, heading.start + 1, (heading.start, heading.end)))
        self._asides(title, heading, asides)
        if intro:
            first_item = self.drafts.first(made)
            self._to_preamble(intro, first_item, 1 - self.section_level, title, heading.start,
                              f"text of section {title!r} before its first item: kept in the "
                              "preamble under the section's name (a section has no text of "
                              "its own)")

    def _asides(self, title: str, heading: _Block,
                asides: list[tuple[list[_Block], int, str]]) -> None:
        """Sub-headings that are no agenda entry (attendees, links, logistics): with their
        text, into the preamble under the section's name."""
        for group, end, why in asides:
            self.used.discard(group[0].start)
            self._to_preamble(group, end, 1 - self.section_level, title, heading.start,
                              f"{why} under section {title!r}: kept in the preamble, not as "
                              "an item")

    def _note_once(self, kind: NoteKind, block: _Block, reason: str) -> None:
        self.notes.append(SourceNote(kind, block.start + 1, block.end,
                                     self.lines[block.start], reason))

    def _attach(self, draft: _Draft, start: int, end: int) -> None:
        """Lines after an item, before the next one: they belong to it."""
        lines = [n for n in range(start, end) if n not in self.used and n not in self.defined]
        if not lines:
            return
        draft.parts.append("\n".join(self.lines[n] for n in lines))
        draft.end = max(draft.end, end)
        self.used.update(lines)

    def _list_kind(self, section: str, block: _Block, implicit: bool) -> str | None:
        """None when a list is agenda entries, else what it is instead."""
        if not self._precounted:
            self._plains, self._plain_next = iter(()), None
        verdict = shapes.not_agenda_by_heading(section)
        if verdict is not None and not implicit:
            return verdict or None  # the heading says it all: no entry need be read
        counted = self._counts.get(block.index) if self._precounted else None
        if counted is None:
            # Counts, not the entries' titles: a list of 100k entries is read as it goes.
            counted = _Counted()
            ahead = _OnDisk(folder=self.spill_to)
            tokens = self.tokens
            for index in self._top_items(block):
                self._count_entry(counted, index, tokens[index], tokens[index + 1],
                                  tokens[index + 2] if index + 2 < len(tokens) else None,
                                  ahead, implicit)
            self._plains = iter(ahead)
            self._plain_next = next(self._plains, None)
        if implicit and counted.titles and counted.keys:
            # A document without sections: a list of meeting details before the agenda.
            return "meeting details"
        return shapes.not_agenda_counted(section, counted.titles, counted.names,
                                         counted.marked, counted.links)

    def _count_entry(self, counted: _Counted, index: int, token: Token, following: Token,
                     inline: Token | None, ahead: _OnDisk, keys: bool) -> None:
        """Count a list's entry (at token `index`) for `_list_kind`; its title, as
        `_first_plain` gives it, goes `ahead` for the list's second reading."""
        children: list[Token] = []
        if following.type == "paragraph_open" and inline is not None and inline.type == "inline":
            first = inline.content.split("\n", 1)[0]
            if "[" in first and self._refs_seen < 0:
                self._refs_seen = len(self.references)  # a link may use a definition
            children = shapes.inline_tokens(first, self.references)
        title = ""
        if children:
            plain = shapes.plain(children, first_line=True)
            ahead.append((index + 1, plain.text, plain.lossy))
            title = plain.text.strip()
        counted.titles += 1
        name, affiliated = shapes.name_like(title)
        counted.names += name
        counted.marked += affiliated
        counted.links = counted.links and shapes.link_only(children)
        if keys and counted.keys:  # only a document without sections asks
            found = shapes.key_line(self.lines[token.map[0]]) if token.map else None
            counted.keys = found is not None and shapes.detail_of(found[0]) is not None

    def _top_items(self, block: _Block) -> Iterator[int]:
        """Token indexes of a list's own entries (not the nested ones)."""
        for index, token in self.tokens.walk(block.index):
            if token.type.endswith("_list_close") and token.level == 0:
                break
            if token.type == "list_item_open" and token.level == 1 and token.map:
                yield index

    # Items -------------------------------------------------------------------------------------

    def _heading_item(self, section: str, block: _Block, end: int, level: int) -> _Draft:
        raw = self._raw_inline(block.index)
        inline = shapes.plain(self._inline(block.index))
        title, long = self._title(inline.text, block.start, f"Untitled item (line "
                                                            f"{block.start + 1})")
        body_start = self._skip_metadata(block.end, end)
        parts = [shapes.strip_numbering(raw.strip())] if inline.lossy or long else []
        body = shift_headings(list(self.lines[body_start:end]), -level)
        parts.append("\n".join(body))
        draft = _Draft(section, title, block.start, end, parts)
        self.used.update(n for n in range(block.start, end) if n not in self.used)
        self.drafts.append(draft)
        return draft

    def _timed_lines(self, block: _Block) -> bool:
        """True for a paragraph of two or more lines that each start with a time (a
        schedule written without list markers)."""
        lines = self.lines[block.start:block.end]
        return len(lines) >= 2 and all(shapes.timed_line(line) for line in lines)

    def _timed_item(self, section: str, line: int) -> None:
        found = shapes.timed_line(self.lines[line])
        assert found is not None
        time, rest = found
        inline = shapes.plain(shapes.inline_tokens(rest, self.references))
        title, long = self._title(inline.text, line, f"Untitled item (line {line + 1})")
        parts = [f"- **Time**: {time}"]
        if inline.lossy or long:
            parts.append(rest)  # a part of its own: a paragraph after the list
        self.used.add(line)
        self.drafts.append(_Draft(section, title, line, line + 1, parts))

    def _bold_heading(self, block: _Block) -> str | None:
        """The text of a paragraph's first line when it is all bold (a colon after it
        allowed), else None."""
        children = [t for t in self._first_inline(block.index)
                    if t.type != "text" or t.content]
        if len(children) < 3 or children[0].type != "strong_open":
            return None
        close = next((k for k, t in enumerate(children) if t.type == "strong_close"), None)
        if close is None or close < 2:
            return None
        tail = "".join(t.content for t in children[close + 1:] if t.type == "text")
        if tail.strip() not in ("", ":") or any(t.type != "text" for t in children[close + 1:]):
            return None
        text = shapes.plain(children[1:close]).text.strip()
        return text if 0 < len(text) <= shapes.SOFT_TITLE else None

    def _bold_item(self, section: str, block: _Block, end: int) -> _Draft:
        raw = self._bold_heading(block) or ""
        title, _ = self._title(raw, block.start, f"Untitled item (line {block.start + 1})")
        lossy = shapes.plain(self._first_inline(block.index)).lossy
        first = self.lines[block.start].strip()
        rest = [first] if lossy else []
        rest += self.lines[block.start + 1:end]
        draft = _Draft(section, title, block.start, end, ["\n".join(rest)])
        self.used.update(n for n in range(block.start, end) if n not in self.defined)
        self.drafts.append(draft)
        return draft

    def _skip_metadata(self, start: int, end: int) -> int:
        """Skip the `*Status:* …` line an export puts under each item heading."""
        line = next((n for n in range(start, end) if self.lines[n].strip()), end)
        block = self._starting.get(line)
        if block is None or block.type != "paragraph_open" or \
                not self.lines[line].lstrip().startswith(("*", "_")):
            return start
        children = self._inline(block.index)
        if len(children) >= 2 and children[0].type == "em_open" and \
                children[1].content.strip() in ("Status:", "Change:"):
            self._note("metadata", line, block.end, "export metadata line")
            return block.end
        return start

    def _list_items(self, section: str, block: _Block, stop: int) -> None:
        """Items from a list: its entries down to --depth; deeper ones stay in their text."""
        # Each entry is made as the next one is met (which may end it): an entry's own
        # lines end where a nested entry taken as an item starts.
        pending: tuple[int, int, int] | None = None  # (token index, start, end)
        first = -1  # the first entry's line
        # The containers open around each token: an entry counts only inside lists (not
        # in a quote or a table within an item).
        opened: list[str] = []
        lists = others = 0  # among `opened`: lists, and anything but _CONTAINERS
        for index, token in self.tokens.walk(block.index):
            nesting = token.nesting
            if nesting == -1:
                closed = opened.pop()
                lists -= closed in _LISTS
                others -= closed not in _CONTAINERS
                if not opened:
                    break
                continue
            if nesting == 1:
                kind = token.type
                if kind == "list_item_open" and token.map and lists <= self.depth and \
                        not others:
                    if pending is not None:
                        self._entry(section, pending, token.map[0])
                    else:
                        first = token.map[0]
                    pending = (index, token.map[0], token.map[1])
                opened.append(kind)
                lists += kind in _LISTS
                others += kind not in _CONTAINERS
        if pending is not None:
            self._entry(section, pending, None)
            if self.drafts:
                self._attach(self.drafts[-1], first, max(block.end, stop))
        # Nothing reads a list's entries' first lines again: an outline of 100k entries
        # need not hold all their tokens at once.
        self._firsts.clear()
        if not self._precounted:
            self._plains, self._plain_next = iter(()), None

    def _entry(self, section: str, entry: tuple[int, int, int], following: int | None) -> None:
        """A list entry, its lines up to the next entry taken as an item (if it is nested)."""
        index, start, end = entry
        own_end = following if following is not None and following < end else end
        if own_end > start:  # else `- - x`: the nested entry on the same line is the item
            self._list_item(section, index, start, own_end)

    def _list_item(self, section: str, index: int, start: int, end: int) -> None:
        first = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        indent = _content_indent(self.lines[start])
        head = self.lines[start][indent:] if len(self.lines[start]) > indent else ""
        lines = [head, *(_dedent(line, indent) for line in self.lines[start + 1:end])]
        if first is not None and first.type == "paragraph_open" and first.map and \
                first.map[0] == start:
            inline = self._first_plain(index + 1)
        else:
            inline = shapes.Inline(lines[0], False)
        title, long = self._title(inline.text, start, f"Untitled item (line {start + 1})")
        keep_first = inline.lossy or long or ("<" in lines[0] and
                                              shapes.strip_tags(lines[0]) != lines[0])
        rest = _dedent_common(lines[1:]) if len(lines) > 1 else []
        parts = ["\n".join([lines[0], *rest] if keep_first else rest)]
        while end > start + 1 and not self.lines[end - 1].strip():
            end -= 1
        self.used.update(range(start, end))
        self.drafts.append(_Draft(section, title, start, end, parts))

    def _table_items(self, section: str, block: _Block, stop: int) -> None:
        """One item per row of a topic table (pipe or HTML): the topic cell its title, the
        other cells, named by the header row, its text."""
        if block.type == "table_open":
            header = shapes.pipe_cells(self.lines[block.start])
            body = [(n, shapes.pipe_cells(self.lines[n]))
                    for n in range(block.start + 2, block.end) if self.lines[n].strip()]
            kind = "table"
        else:
            found = shapes.html_table(self._text(block.start, block.end))
            if found is None:
                return
            header, html_rows = found
            body = [(block.start, row) for row in html_rows]
            kind = "HTML table"
        topic, rows = shapes.table_rows(header, [cells for _, cells in body])
        if topic is None or not rows:
            return
        if block.type == "table_open":
            self._note("items", block.start, block.start + 2,
                       f"{kind} header: names the fields of the items made from its rows")
        else:
            self._note("items", block.start, block.end,
                       f"{kind}: one item per row, its topic column as the title")
        for (line, _), row in zip(body, rows, strict=True):
            inline = shapes.plain(shapes.inline_tokens(row.title_source, self.references))
            fields = [f"- **{name}**: {value}" for name, value in row.fields]
            if not clean_title_text(inline.text):
                if self.drafts and self.drafts[-1].section == section:
                    # A row without a topic continues the item above it.
                    self.used.add(line)
                    self.drafts[-1].end = max(self.drafts[-1].end, line + 1)
                    if fields:
                        self.drafts[-1].parts.append("\n".join(fields))
                    continue
            title, long = self._title(inline.text, line, f"Untitled item (line {line + 1})")
            head = header[topic] if topic < len(header) and header[topic] else "Topic"
            if inline.lossy or long:
                fields.insert(0, f"- **{head}**: {row.title_source}")
            self.used.add(line)
            self.drafts.append(_Draft(section, title, line, line + 1, ["\n".join(fields)]))
        self.used.update(range(block.start, block.end))

    def _with_definitions(self, text: str) -> str:
        """The text, followed by the link definitions it uses and does not hold yet."""
        if not self.definitions:
            return text
        wanted = [self.lines[self.definitions[label]].strip()
                  for label in sorted(shapes.used_labels(text)) if label in self.definitions]
        missing = [line for line in dict.fromkeys(wanted) if line not in text]
        return text + "\n\n" + "\n".join(missing) if missing and text.strip() else text

    def _finish(self, draft: _Draft) -> ParsedItem:
        text = "\n\n".join(part.strip("\n") for part in draft.parts if part.strip())
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
        if "\n\n\n" in text:
            text = _BLANK_RUNS.sub("\n\n", text)
        text = self._with_definitions(shapes.escape_task_boxes(text))
        if self.literal:
            text = shapes.escape_brackets(text)
        if not text.strip():
            text = NO_TEXT
            note = SourceNote("warning", draft.first + 1, draft.first + 1, draft.title,
                              "item has no text of its own; its text says so")
            late = self.late_notes
            if isinstance(late, list):
                late.append(note)
            else:
                if late and _note_key(note) < self.last_late:
                    self.late_in_order = False
                self.last_late = _note_key(note)
                late.append(_note_to(note))
        return ParsedItem(draft.section, draft.title, text, draft.first + 1,
                          (draft.first, max(draft.end, draft.first + 1)))


def _runs(lines: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs [start, end) of sorted line numbers."""
    runs: list[tuple[int, int]] = []
    for n in sorted(lines):
        if runs and runs[-1][1] == n:
            runs[-1] = (runs[-1][0], n + 1)
        else:
            runs.append((n, n + 1))
    return runs


_MARKER = re.compile(r"[-+*]|\d{1,9}[.)]")


def _content_indent(line: str) -> int:
    """Where a list item's content starts: after the marker and up to four spaces."""
    stripped = line.lstrip(" ")
    marker = _MARKER.match(stripped)
    column = len(line) - len(stripped) + (marker.end() if marker else 0)
    rest = line[column:]
    spaces = len(rest) - len(rest.lstrip(" "))
    return column + (spaces if 1 <= spaces <= 4 and rest.strip() else 1)


def _dedent_common(lines: list[str]) -> list[str]:
    """Lines without the indentation they all share (nested entries, cleanly dedented)."""
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] for line in lines]


def _dedent(line: str, indent: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent):]


def parse_markdown(text: str, *, depth: int = 1, literal_brackets: bool = False) -> ParsedAgenda:
    """The outline of a Markdown agenda, without touching any workspace.

    The one top heading (or a first heading that reads as a title) is the summit's title;
    what comes before the first section gives the details and the preamble; the next level
    are sections; inside a section, its lists and topic tables, then its sub-headings, are
    its items, in source order. An item's text is everything under it up to the next item,
    Markdown kept as written. Sections without items and texts that are no agenda entries
    (attendees, links, logistics) join the preamble. What fits nowhere is reported.
    """
    return _parse(text, depth=depth, literal_brackets=literal_brackets)[0]


def _parse(text: str | SourceLines, *, depth: int = 1, literal_brackets: bool = False,
           sink: Callable[[ParsedItem], None] | None = None,
           spill_to: Path | None = None) -> tuple[ParsedAgenda, int]:
    """`parse_markdown`, and how many items it found; with `sink`, each item goes there as
    it is finished and none is kept in the outline."""
    outline = _Outline(text, depth=depth, literal_brackets=literal_brackets, sink=sink,
                       spill_to=spill_to)
    parsed = outline.run()
    count = outline.drafts.count
    if not count and any(n.kind == "title" for n in parsed.notes):
        # "## Agenda" over "### items": with nothing under the sections that would follow
        # from taking it as the title, the one top heading is the section instead.
        outline = _Outline(text, depth=depth, literal_brackets=literal_brackets,
                           title_heading=False, sink=sink, spill_to=spill_to)
        again = outline.run()
        if outline.drafts.count:
            return again, outline.drafts.count
    return parsed, count


def _note_key(note: SourceNote) -> tuple[int, int]:
    return note.line, note.end


def _note_to(note: SourceNote) -> tuple[str, int, int, str, str]:
    return note.kind, note.line, note.end, note.text, note.reason


def _note_from(value: tuple[NoteKind, int, int, str, str]) -> SourceNote:
    return SourceNote(*value)


class _Merged(Sequence[SourceNote]):
    """The notes by line, as they are read: the outline's own (few) merged with the items'
    (one an item at most, on disk), those first on a line, as one stable sort of them all
    orders them. Equal to the list of them."""

    def __init__(self, first: list[SourceNote], then: _OnDisk) -> None:
        self.first, self.then = first, then

    def __iter__(self) -> Iterator[SourceNote]:
        return heapq.merge(self.first, self.then, key=_note_key)

    def __len__(self) -> int:
        return len(self.first) + len(self.then)

    @overload
    def __getitem__(self, index: int) -> SourceNote: ...
    @overload
    def __getitem__(self, index: slice) -> list[SourceNote]: ...
    def __getitem__(self, index: int | slice) -> SourceNote | list[SourceNote]:
        return list(self)[index]  # seldom: the report is read in order

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == len(self) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"_Merged({list(self)!r})"


class _OnDisk(Sequence[Any]):
    """Values (marshal's) kept in an unlinked temporary file as they come, a batch at a time,
    and read back in order: an import's items, their notes and the names its report gives,
    which grow with the document (100k items: ~45 MB held), never all in memory. Equal to
    a list of the same values."""

    BATCH = 256

    def __init__(self, decode: Callable[[Any], Any] | None = None,
                 folder: Path | None = None) -> None:
        import tempfile  # only here: it imports shutil, which no command's start needs

        self.decode = decode  # what each value read back is made into
        # Beside the workspace when given: a temporary folder may be memory (tmpfs).
        self.file = tempfile.TemporaryFile(dir=folder)
        self.size = 0
        self.bounds = array("q", [0])  # where each batch written starts, and the end
        self.pending: list[Any] = []

    def append(self, value: Any) -> None:
        self.pending.append(value)
        self.size += 1
        if len(self.pending) >= self.BATCH:
            data = marshal.dumps(self.pending)
            self.file.write(data)
            self.bounds.append(self.bounds[-1] + len(data))
            self.pending = []

    def _batch(self, number: int) -> list[Any]:
        start, end = self.bounds[number], self.bounds[number + 1]
        batch: list[Any] = marshal.loads(os.pread(self.file.fileno(), end - start, start))
        return batch

    def __iter__(self) -> Iterator[Any]:
        self.file.flush()
        decode = self.decode
        number = 0
        while number + 1 < len(self.bounds):
            batch = self._batch(number)
            number += 1
            yield from batch if decode is None else map(decode, batch)
        pending = list(self.pending)
        yield from pending if decode is None else map(decode, pending)

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        number, at = divmod(index, self.BATCH)
        self.file.flush()
        value = self._batch(number)[at] if number + 1 < len(self.bounds) else self.pending[at]
        return value if self.decode is None else self.decode(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == self.size and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"_OnDisk({list(self)!r})"


# Importing into a workspace ---------------------------------------------------------------

@dataclass
class ImportReport:
    slug: str
    source: str
    delegation: str
    created_summit: bool = False
    sections_added: list[str] = field(default_factory=list)
    sections_existing: list[str] = field(default_factory=list)
    sections_renamed: list[str] = field(default_factory=list)
    items_added: Sequence[str] = field(default_factory=list)
    items_changed: list[str] = field(default_factory=list)
    items_retitled: list[str] = field(default_factory=list)
    items_moved: list[str] = field(default_factory=list)
    items_missing: list[str] = field(default_factory=list)
    items_withdrawn: list[str] = field(default_factory=list)
    items_unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    details_changed: list[str] = field(default_factory=list)
    bracketed: int = 0
    notes: Sequence[SourceNote] = field(default_factory=list)

    @property
    def unplaced(self) -> list[SourceNote]:
        return [n for n in self.notes if n.kind in ("unplaced", "preamble")]

    def to_json(self) -> dict[str, Any]:
        return {
            "summit": self.slug, "source": self.source, "delegation": self.delegation,
            "created_summit": self.created_summit,
            "sections": {"added": self.sections_added, "existing": self.sections_existing,
                         "renamed": self.sections_renamed},
            "items": {"added": list(self.items_added), "changed": self.items_changed,
                      "retitled": self.items_retitled, "moved": self.items_moved,
                      "missing": self.items_missing, "withdrawn": self.items_withdrawn,
                      "unchanged": self.items_unchanged, "refused": self.refused},
            "details_changed": self.details_changed,
            "bracketed": self.bracketed,
            "notes": [{"kind": n.kind, "line": n.line, "end": n.end, "reason": n.reason,
                       "text": n.text} for n in self.notes],
        }


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n")
                     .split("\n")).strip("\n")


def _same_text(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def _similarity(a: str | list[str], b: str | list[str]) -> float:
    """difflib's ratio (titles by characters, texts by words), 0 when the cheap upper
    bounds already rule a match out."""
    if not a or not b:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return 0.0
    return matcher.ratio()


def _contains(a: str, b: str) -> bool:
    """True when one title's words are all in the other's (and there are some)."""
    left, right = set(_words(a).split()), set(_words(b).split())
    return bool(left and right) and (left <= right or right <= left)


@dataclass
class _Old:
    item: Item
    title: str
    text: str


def _match(old: list[_Old], new: list[ParsedItem],
           section_of: dict[str, str]) -> dict[int, _Old]:
    """Pair the file's items with the summit's: same title first (same section, then any),
    then by title and text similarity; each summit item is paired at most once."""
    pairs: dict[int, _Old] = {}
    if not old:
        return pairs  # a new summit: nothing to pair
    free = list(old)
    for same_section in (True, False):
        by_title: dict[tuple[str, str], list[_Old]] = {}
        for entry in free:
            key = (entry.item.section.casefold() if same_section else "", _key(entry.title))
            by_title.setdefault(key, []).append(entry)
        for n, parsed in enumerate(new):
            if n in pairs:
                continue
            section = section_of[parsed.section.casefold()].casefold() if same_section else ""
            found = by_title.get((section, _key(parsed.title)))
            if found:
                pairs[n] = found.pop(0)
        taken = {id(e) for e in pairs.values()}
        free = [e for e in free if id(e) not in taken]
    rest = [n for n in range(len(new)) if n not in pairs]
    if not rest or not free:
        return pairs
    scored: list[tuple[float, int, int]] = []
    old_words = [_words(e.text) if e.text != NO_TEXT else "" for e in free]
    old_lists = [w.split() for w in old_words]
    candidates = _candidates(free, old_words, [new[n] for n in rest])
    for n, near in zip(rest, candidates, strict=True):
        parsed = new[n]
        title, words = _key(parsed.title), _words(parsed.text).split()
        distinctive = parsed.text != NO_TEXT and len(words) >= 3
        for k in near:
            entry = free[k]
            t = _similarity(title, _key(entry.title))
            if t < 0.76 and _contains(title, _key(entry.title)):
                t = 0.76  # a title with words added or dropped, "Closure" → "Closure, revised"
            x = _similarity(words, old_lists[k]) if distinctive else 0.0
            if t >= 0.75 or x >= 0.6 or (t >= 0.5 and x >= 0.5):
                bonus = 0.05 if entry.item.section.casefold() == \
                    section_of[parsed.section.casefold()].casefold() else 0.0
                scored.append((max(t, x) + min(t, x) / 2 + bonus, n, k))
    used: set[int] = set()
    for _, n, k in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if n in pairs or k in used:
            continue
        pairs[n] = free[k]
        used.add(k)
    return pairs


def _candidates(free: list[_Old], old_words: list[str],
                new: list[ParsedItem]) -> list[list[int]]:
    """For each new item, the summit items worth comparing it with: all of them, unless
    that is too many pairs; then those sharing a word that few items use."""
    everyone = list(range(len(free)))
    if len(free) * len(new) <= 20_000:
        return [everyone] * len(new)
    index: dict[str, set[int]] = {}
    for k, entry in enumerate(free):
        for word in {*_words(entry.title).split(), *old_words[k].split()}:
            index.setdefault(word, set()).add(k)
    common = max(5, len(free) // 10)
    out = []
    for parsed in new:
        near: set[int] = set()
        for word in {*_words(parsed.title).split(), *_words(parsed.text).split()}:
            found = index.get(word, ())
            if len(found) <= common:
                near.update(found)
        out.append(sorted(near))
    return out


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence of values (patience sort)."""
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(values)
    for i, v in enumerate(values):
        j = bisect.bisect_left(tails, v)
        if j == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[j] = v
            tail_at[j] = i
        back[i] = tail_at[j - 1] if j else -1
    out: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i != -1:
        out.add(i)
        i = back[i]
    return out


def report_lines(report: ImportReport, source_name: str, *, brackets_hint: str) -> list[str]:
    """The import report as the CLI prints it and the app shows it; `brackets_hint` says,
    in the words of each, how to import brackets as plain text."""
    verb = "Created" if report.created_summit else "Imported into"
    lines = [f"{verb} {report.slug} from {source_name}, tabled by {report.delegation}",
             f"  sections: {len(report.sections_added)} added, "
             f"{len(report.sections_existing)} already there"]
    lines.extend(f"  section renamed: {renamed}" for renamed in report.sections_renamed)
    lines.append(
        f"  items: {len(report.items_added)} added, {len(report.items_changed)} changed (MOD "
        f"tabled), {len(report.items_retitled)} retitled, {len(report.items_moved)} moved, "
        f"{len(report.items_missing)} missing, {len(report.items_unchanged)} unchanged")
    if report.details_changed:
        lines.append(f"  details changed: {', '.join(report.details_changed)}")
    if report.bracketed:
        many = "items start" if report.bracketed > 1 else "item starts"
        lines.append(f"  {report.bracketed} {many} bracketed (square brackets in the text; "
                     f"{brackets_hint})")
    for label in report.items_missing:
        done = " (withdrawn)" if label in report.items_withdrawn else ""
        lines.append(f"  missing from the file: {label}{done}")
    lines.extend(f"  not changed: {label}" for label in report.refused)
    for note in report.notes:
        if note.kind in ("metadata", "title", "details") or \
                note.kind == "items" and "sub-heading" in note.reason:
            continue
        first = note.text.split("\n", 1)[0]
        lines.append(f"  {note.lines}: {note.reason}: {first[:70]}"
                     f"{'…' if len(first) > 70 else ''}")
    return lines


def import_markdown(
    ws: Workspace,
    text: str | SourceLines,
    *,
    delegation: str,
    slug: str | None = None,
    title: str | None = None,
    delegations: Sequence[Delegation] = (),
    venue: str = "",
    dates: str = "",
    new_slug: str | None = None,
    source_name: str = "",
    chair: Delegation | None = None,
    depth: int = 1,
    literal_brackets: bool = False,
    withdraw_missing: bool = False,
) -> ImportReport:
    """Import a Markdown agenda: into the summit `slug`, or a new one when `delegations` given.
    `text` is the agenda, or a file's `SourceLines` (a large one: never held whole).

    New items are added with their text tabled (ADD) by `delegation`. Items already in the
    summit are recognised by title and text: a changed text gets a MOD, a changed title a
    retitle, and the file's order is followed (items and sections move). Items no longer in
    the file are reported, and with `withdraw_missing` withdrawn (the owner's) or given a SUP.
    A file that yields no item changes nothing. All of it is one transaction.
    """
    # Parsing and building make hundreds of thousands of small acyclic objects, each batch
    # of which set off a collection that walked all the others again (100k items: a fifth
    # of the import's time).
    with bulk():
        return _import_markdown(
            ws, text, delegation=delegation, slug=slug, title=title, delegations=delegations,
            venue=venue, dates=dates, new_slug=new_slug, source_name=source_name, chair=chair,
            depth=depth, literal_brackets=literal_brackets, withdraw_missing=withdraw_missing)


def _import_markdown(
    ws: Workspace,
    text: str | SourceLines,
    *,
    delegation: str,
    slug: str | None,
    title: str | None,
    delegations: Sequence[Delegation],
    venue: str,
    dates: str,
    new_slug: str | None,
    source_name: str,
    chair: Delegation | None,
    depth: int,
    literal_brackets: bool,
    withdraw_missing: bool,
) -> ImportReport:
    if isinstance(text, str) and "\x00" in text:
        raise AgendaError(f"{source_name or 'The file'} contains NUL bytes; is it a binary "
                          "file?")
    spilled: _OnDisk | None = None
    spill_to = ws.path.parent
    if delegations:
        # Into a new summit, whose first record names the sections and preamble the whole
        # document gives: the items wait on disk, not in memory, until it is written.
        spilled = _OnDisk(folder=spill_to)

        def sink(item: ParsedItem) -> None:
            check_text(item.text)
            assert spilled is not None
            spilled.append((item.section, item.title, item.text))

        parsed, count = _parse(text, depth=depth, literal_brackets=literal_brackets, sink=sink,
                               spill_to=spill_to)
    else:
        parsed, count = _parse(text, depth=depth, literal_brackets=literal_brackets)
        for item in parsed.items:
            check_text(item.text)
    if not count:
        raise AgendaError(f"{source_name or 'The file'} has no agenda items (no list items, "
                          "sub-headings or topic tables under its sections); nothing imported")
    check_text(parsed.preamble, allow_empty=True)
    why = f"Imported from {source_name}" if source_name else "Imported"
    details = parsed.details
    slug_given = slug

    # Matching and building the records happen before the lock is taken, which is held
    # for the commit alone (a re-import of 1,000 changed texts held it for 97 s).
    def body() -> ImportReport:
        slug: str | None = slug_given
        if delegations:
            summit_title = title or parsed.title or _title_from_name(source_name)
            if not summit_title:
                raise AgendaError("Give the new summit a --title: the file has no title heading")
            entry: SummitEntry = ws.create_summit(
                summit_title, delegations, slug=new_slug,
                venue=venue or details.get("venue", ""), dates=dates or details.get("dates", ""),
                host=details.get("host", ""), preamble=parsed.preamble,
                sections=parsed.section_titles, chair=chair)
            slug, created = entry.slug, True
        else:
            slug, created = ws.resolve_slug(slug), False
        # A new summit holds no delegation's drafts yet: the joint view is the whole of it,
        # and a second, per-delegation fold of 100k items would double the import's work.
        state = ws.state(slug) if created else ws.state(slug, delegation)
        code = state.summit.delegation(delegation).code
        report = ImportReport(slug, source_name, code, created, notes=parsed.notes)
        if not created:
            report.details_changed = _update_details(ws, slug, state.summit, parsed,
                                                     venue, dates, code)
        old = [_Old(i, i.title, state.current_text(i)) for i in state.items
               if i.status != Status.WITHDRAWN]
        known = {s.title.casefold(): s.title for s in state.summit.sections}
        section_of = _sections_of(ws, slug, parsed, old, known, report, created, code)
        if created:
            # Every item is new: its records are written out as they are made, and the
            # report's names go to disk (memory bounded).
            assert spilled is not None
            added_names = report.items_added = _OnDisk(folder=spill_to)

            def each(item: AddedItem) -> None:
                added_names.append(f"{item.number} {item.title}")
                report.bracketed += item.status == Status.BRACKETED

            ws.add_items_streamed(slug, (
                NewItem(section_of[section.casefold()], item_title, item_text, why)
                for section, item_title, item_text in spilled), delegation=code, each=each)
            return report
        pairs = _match(old, parsed.items, section_of)
        refused: list[tuple[str, str]] = []  # (item uuid, why)
        fresh: list[tuple[int, NewItem]] = []
        for n, parsed_item in enumerate(parsed.items):
            section = section_of[parsed_item.section.casefold()]
            match = pairs.get(n)
            if match is None:
                fresh.append((n, NewItem(section, parsed_item.title, parsed_item.text, why)))
                continue
            existing = match.item
            if existing.title != parsed_item.title:
                ws.retitle_item(slug, existing.uuid, parsed_item.title, actor=code)
                report.items_retitled.append(existing.uuid)
            if _same_text(match.text, parsed_item.text):
                continue
            if existing.status not in OPEN_STATUSES:
                refused.append((existing.uuid, f"it is {existing.status.value}; its text was "
                                               "not changed"))
            else:
                ws.table(slug, existing.uuid, delegation=code, text=parsed_item.text,
                         code=Code.MOD, why=why)
                report.items_changed.append(existing.uuid)
        added = ws.add_items(slug, [spec for _, spec in fresh], delegation=code)
        uuid_of = {n: pairs[n].item.uuid for n in pairs}
        uuid_of.update({n: item.uuid for (n, _), item in zip(fresh, added, strict=True)})
        report.items_added = [item.uuid for item in added]
        # The workspace has read every new text's brackets already: count, do not re-scan.
        report.bracketed = sum(1 for item in added if item.status == Status.BRACKETED)
        missing = [e.item for e in old if e.item.uuid not in set(uuid_of.values())]
        report.items_moved = _follow_file_order(ws, slug, parsed, section_of, uuid_of, missing,
                                                {e.item.uuid for e in old}, code)
        for gone in missing:
            report.items_missing.append(gone.uuid)
            if withdraw_missing:
                _withdraw(ws, slug, gone, code, why, report, refused)
        report.items_unchanged = [
            uuid_of[n] for n in sorted(pairs) if uuid_of[n] not in
            {*report.items_changed, *report.items_retitled, *report.items_moved}
            and not any(r[0] == uuid_of[n] for r in refused)]
        names = {e.item.uuid: f"{e.item.number} {e.item.title}" for e in old}
        final = ws.state(slug).items
        names.update({i.uuid: f"{i.number} {i.title}" for i in final})
        for name in ("items_added", "items_changed", "items_retitled", "items_moved",
                     "items_missing", "items_withdrawn", "items_unchanged"):
            setattr(report, name, [names[u] for u in getattr(report, name)])
        report.refused = [f"{names[uuid]}: {reason}" for uuid, reason in refused]
        return report

    return ws.compute_then_commit(body)


def _title_from_name(source_name: str) -> str:
    """A summit title from a file name: its stem, separators as spaces."""
    stem = Path(source_name).stem if source_name else ""
    return " ".join(re.sub(r"[_]+", " ", stem).split())


def _update_details(ws: Workspace, slug: str, summit: Any, parsed: ParsedAgenda, venue: str,
                    dates: str, actor: str) -> list[str]:
    """A re-import brings the file's details and preamble up to date (never blanks one)."""
    wanted = {"venue": venue or parsed.details.get("venue", ""),
              "dates": dates or parsed.details.get("dates", ""),
              "host": parsed.details.get("host", ""), "preamble": parsed.preamble}
    changes = {k: v for k, v in wanted.items() if v and v != getattr(summit, k)}
    if changes:
        ws.update_details(slug, actor=actor, **changes)
    return sorted(changes)


def _sections_of(ws: Workspace, slug: str, parsed: ParsedAgenda, old: list[_Old],
                 known: dict[str, str], report: ImportReport, created: bool,
                 actor: str) -> dict[str, str]:
    """The summit section each of the file's sections goes to (casefolded file title ->
    summit title), adding the new ones. A new title whose items mostly sit in one section
    that the file no longer names is that section renamed: reported, the items follow."""
    file_titles = {t.casefold() for t in parsed.section_titles}
    out: dict[str, str] = {}
    for section in parsed.section_titles:
        folded = section.casefold()
        if folded in known:
            out[folded] = known[folded]
            (report.sections_added if created else report.sections_existing).append(
                known[folded])
            continue
        ws.add_section(slug, section, actor=actor)
        known[folded] = section
        out[folded] = section
        report.sections_added.append(section)
        if old:
            titles = {_key(i.title) for i in parsed.items if i.section.casefold() == folded}
            homes = [e.item.section for e in old if _key(e.title) in titles
                     and e.item.section.casefold() not in file_titles]
            if homes and len(homes) * 2 >= len(titles):
                former = max(set(homes), key=homes.count)
                report.sections_renamed.append(f"{former} → {section}")
    return out


def _follow_file_order(ws: Workspace, slug: str, parsed: ParsedAgenda,
                       section_of: dict[str, str], uuid_of: dict[int, str],
                       missing: list[Item], existing: set[str], actor: str) -> list[str]:
    """Move items (and sections) so the summit reads in the file's order; items missing
    from the file keep their place after the item they followed. Returns the existing items
    that moved, the fewest that make the order right."""
    summit = ws.summit(slug)
    current = {s.title: list(s.items) for s in summit.sections}
    order = [section_of[t.casefold()] for t in parsed.section_titles]
    # The file's sections take, in the file's order, the places they hold in the summit:
    # sections the file does not name stay where they are.
    now = [s.title for s in summit.sections]
    slots = sorted(now.index(title) for title in order)
    for slot, title in zip(slots, order, strict=True):
        now = [s.title for s in ws.summit(slug).sections]
        if now.index(title) != slot:
            ws.move_section(slug, title, slot + 1, actor=actor)
    wanted: dict[str, list[str]] = {title: [] for title in order}
    for n, parsed_item in enumerate(parsed.items):
        wanted[section_of[parsed_item.section.casefold()]].append(uuid_of[n])
    missing_ids = {i.uuid for i in missing}
    for title, items in current.items():
        # A missing item stays after its predecessor in the section, if that one stays here.
        if title not in wanted:
            continue
        target = wanted[title]
        for k, uuid in enumerate(items):
            if uuid in missing_ids:
                before = items[k - 1] if k else None
                at = target.index(before) + 1 if before in target else 0 if k == 0 else \
                    len(target)
                target.insert(at, uuid)
    home = {uuid: title for title, items in current.items() for uuid in items}
    moved: list[str] = []
    for title in order:
        target = wanted[title]
        here = current[title]
        rank = {uuid: k for k, uuid in enumerate(target)}
        staying = [u for u in here if u in rank]
        keep = {staying[k] for k in _longest_increasing([rank[u] for u in staying])}
        for k, uuid in enumerate(target):
            if uuid in keep:
                continue
            source = home[uuid]
            current[source].remove(uuid)
            after = target[k - 1] if k else None
            at = current[title].index(after) + 1 if after is not None else 0
            current[title].insert(at, uuid)
            home[uuid] = title
            ws.move_item(slug, uuid, section=title if source != title else None,
                         position=at + 1, actor=actor)
            if uuid in existing:
                moved.append(uuid)
    return moved


def _withdraw(ws: Workspace, slug: str, item: Item, code: str, why: str,
              report: ImportReport, refused: list[tuple[str, str]]) -> None:
    """An item the file no longer has: its owner withdraws it; another side tables a SUP."""
    if item.owner == code and Status.WITHDRAWN in TRANSITIONS[item.status]:
        ws.set_status(slug, item.uuid, Status.WITHDRAWN, actor=code)
        report.items_withdrawn.append(item.uuid)
    elif item.status in OPEN_STATUSES:
        ws.table(slug, item.uuid, delegation=code, text="", code=Code.SUP,
                 why=f"{why}: no longer in the agenda")
        report.items_withdrawn.append(item.uuid)
    else:
        refused.append((item.uuid, f"it is {item.status.value}; not withdrawn"))


# Starter agendas -------------------------------------------------------------------------------

def starter_text(name: str, template_dir: Path | None = None) -> tuple[str, str]:
    """A starter agenda's Markdown, and where it comes from."""
    info = find_starter(name, template_dir)
    return info.path.read_text(encoding="utf-8"), str(info.path)


def starter_sections(name: str, template_dir: Path | None = None,
                     ) -> tuple[list[str], list[ParsedItem]]:
    """The sections and suggested items of a starter agenda (for `summit new --template`)."""
    parsed = parse_markdown(starter_text(name, template_dir)[0])
    return parsed.section_titles, parsed.items


def new_summit_from_starter(
    ws: Workspace,
    name: str,
    title: str,
    delegations: Sequence[Delegation],
    *,
    delegation: str | None = None,
    slug: str | None = None,
    venue: str = "",
    dates: str = "",
    template_dir: Path | None = None,
    chair: Delegation | None = None,
) -> ImportReport:
    """Create a summit laid out by a starter agenda; its suggested items are tabled by
    `delegation` (default: the first delegation, the host)."""
    text, _ = starter_text(name, template_dir)
    return import_markdown(ws, text, delegation=delegation or delegations[0].code, title=title,
                           delegations=delegations, venue=venue, dates=dates, new_slug=slug,
                           source_name=f"starter agenda {name}", chair=chair)
