"""An import's memory does not grow with its items: the file is read a window of lines at a
time (`SourceLines`), the items and the report's names wait on disk (`_OnDisk`), and what is
imported that way is byte for byte what an import of the whole text in memory gives."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_import_fastpath import SIDES, deterministic, journal_bytes

from agenda import importer
from agenda.importer import NotText, SourceLines, _OnDisk, import_markdown

PIECES = ["a", "b c", "é", "€", "😀", "\r", "\n", "\r\n", "\n\n", " ", "- x", "#"]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
BOMS = st.sampled_from(["", "\ufeff", "\ufeff\ufeff"])


def read_as_text(raw: bytes) -> list[str]:
    """The lines the importer reads from a text the command line decoded (the reference)."""
    text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    return text.removeprefix("\ufeff").split("\n")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS, BOMS, st.sampled_from([1, 2, 3, 2048]), st.sampled_from([1, 2, 5, 1 << 20]),
       st.lists(st.integers(-50, 50), max_size=12))
def test_a_files_lines_are_the_texts(tmp_path: Path, body: str, bom: str, window: int,
                                     block: int, reads: list[int]) -> None:
    raw = (bom + body).encode("utf-8")
    path = tmp_path / "agenda.md"
    path.write_bytes(raw)
    want = read_as_text(raw)
    with mock.patch.object(SourceLines, "WINDOW", window), \
            mock.patch.object(SourceLines, "BLOCK", block), \
            mock.patch.object(SourceLines, "KEPT", 2):
        lines = SourceLines(path)
        try:
            # In any order, as the outline reads them: one, backwards, slices.
            for n in reads:
                if -len(want) <= n < len(want):
                    assert lines[n] == want[n]
                else:
                    with pytest.raises(IndexError):
                        lines[n]
            assert len(lines) == len(want)
            assert list(lines) == want
            assert lines[2:7] == want[2:7] and lines[::-1] == want[::-1]
        finally:
            lines.close()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=30), st.sampled_from([1, 3, 1 << 20]))
def test_a_file_that_is_no_text_is_refused_as_the_command_line_refused_it(
        tmp_path: Path, raw: bytes, block: int) -> None:
    path = tmp_path / "agenda.md"
    path.write_bytes(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        want: str | None = (f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                            f"{exc.start}); is it a binary file?")
    else:
        want = f"{path} contains NUL bytes; is it a binary file?" if "\x00" in text else None
    with mock.patch.object(SourceLines, "BLOCK", block):
        if want is None:
            SourceLines(path).close()
        else:
            with pytest.raises(NotText) as refused:
                SourceLines(path)
            assert str(refused.value) == want


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=6), max_size=20), st.lists(st.integers(-25, 25), max_size=8),
       st.sampled_from([1, 3, 256]))
def test_what_waits_on_disk_is_the_list_it_was(values: list[str], reads: list[int],
                                               batch: int) -> None:
    kept = _OnDisk()
    kept.BATCH = batch  # written a batch at a time: some on disk, the last few not yet
    for n, value in enumerate(values):
        kept.append(value)
        if n % 3 == 0:
            assert list(kept) == values[:n + 1]  # read between appends
    assert kept == values and values == kept and len(kept) == len(values)
    assert kept != [*values, "x"]
    for n in reads:
        if -len(values) <= n < len(values):
            assert kept[n] == values[n]
        else:
            with pytest.raises(IndexError):
                kept[n]
    both = zip(kept, kept, strict=True)  # two readers at once
    assert [a for a, b in both if a == b] == values


ENTRIES = st.lists(st.sampled_from([
    "- Trade: the [bracketed] text", "- Energy", "  - nested entry", "  more text",
    "1. Numbered", "", "## Section", "### Sub-item", "Paragraph", "- [ ] task", "* Star",
    "Venue: Geneva", "[ref]: https://example.org", "- [Linked][ref]"]), max_size=40)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ENTRIES, st.sampled_from(["\n", "\r\n"]), st.sampled_from([1, 3, 2048]),
       st.sampled_from([1, 4096]))
def test_an_import_from_the_file_writes_what_one_from_the_text_writes(
        tmp_path: Path, entries: list[str], newline: str, chunk: int, cached: int) -> None:
    body = newline.join(["# Summit agenda", "", "## Opening", "", "- Welcome", *entries, ""])
    source = tmp_path / "agenda.md"
    source.write_bytes(body.encode("utf-8"))
    outcomes = []
    for read in (lambda: body, lambda: SourceLines(source)):
        with tempfile.TemporaryDirectory() as folder, deterministic(Path(folder)) as ws, \
                mock.patch.object(importer, "_CHUNK_LINES", chunk), \
                mock.patch.object(importer, "_CACHED", cached), \
                mock.patch.object(SourceLines, "WINDOW", 2), \
                mock.patch.object(SourceLines, "KEPT", 1):
            report = import_markdown(ws, read(), delegation="IN", source_name="a.md",
                                     delegations=SIDES)
            outcomes.append((journal_bytes(ws, report.slug), report.to_json(),
                             list(report.items_added)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] and outcomes[0][2][0] == "1.1 Welcome"
    # The notes that waited on disk are those an outline held in memory gives, in order.
    held = importer.parse_markdown(body)
    assert outcomes[0][1]["notes"] == [
        {"kind": n.kind, "line": n.line, "end": n.end, "reason": n.reason, "text": n.text}
        for n in held.notes]


def test_a_large_import_holds_its_items_on_disk(tmp_path: Path) -> None:
    """Into a new summit, no item is held by the outline: each is handed on when the next
    one is met, and the report's names are read back from disk."""
    lines = ["# A summit", "", "## One", ""] + [f"- Item {n}: text {n}" for n in range(300)]
    source = tmp_path / "big.md"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    held: list[int] = []
    real = importer._Outline._hand_on

    def hand_on(self: importer._Outline, draft: importer._Draft) -> None:
        held.append(len(self.items))
        real(self, draft)

    with tempfile.TemporaryDirectory() as folder, deterministic(Path(folder)) as ws, \
            mock.patch.object(importer._Outline, "_hand_on", hand_on), \
            mock.patch.object(importer, "_CHUNK_LINES", 16):
        report = import_markdown(ws, SourceLines(source), delegation="IN",
                                 source_name="big.md", delegations=SIDES)
        assert isinstance(report.items_added, _OnDisk)
        assert len(report.items_added) == 300
        assert report.items_added[-1] == "1.300 Item 299: text 299"
        assert set(held) == {0}  # handed on to disk, never kept
        assert [i.title for i in ws.state(report.slug).items][-1] == "Item 299: text 299"
