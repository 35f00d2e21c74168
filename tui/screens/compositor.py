"""A compositor that asks each widget only for the rows of it that will be seen."""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

# More dirty regions than this in one frame (a theme switch, a dialog closing): Textual's own
# single pass over their union is cheaper than one pass per region.
MAX_REGIONS = 8


class RowCompositor(Compositor):
    """Textual's compositor, with a cheaper partial update.

    Textual renders a partial update over the rectangle that bounds every dirty region, and
    asks each widget under that rectangle for all of its visible lines. An item switch
    dirties two lines of the agenda on the left and the item pane on the right: the
    rectangle is the whole body, so each of some 24 widgets (tab labels, containers, the
    filter) handed over every line it shows, only for most to be thrown away. Here each dirty
    region is rendered on its own, and a widget is asked only for the rows of that region.
    In a full update too (the first frame), a widget is asked only for the rows where some of
    it is seen: the screen, the body and the tab container lie behind their children, and
    drew every line of the screen for nothing (some 8 ms of the first frame).
    What reaches the terminal is the same: the same spans, cut at the same places.
    """

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)
            return
        if crop != self.size.region:
            yield from self._rows_of(crop)
            return
        yield from self._seen_rows(crop)

    def _rows_of(self, crop: Region) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """A partial update's region: each widget asked for the rows of it in the region."""
        crop_overlaps = crop.overlaps
        top, height = crop.y, crop.height
        for widget, (region, clip) in list(self.visible_widgets.items()):
            # What is seen of a widget is its region within its container's clip.
            seen = region.intersection(clip)
            if not crop_overlaps(seen):
                continue
            # Only whole rows are cut off: the compositor cuts lines where widgets' edges are,
            # so a widget's lines keep their full width.
            rows = clip.intersection(Region(clip.x, top, clip.width, height))
            x, y, width, rows_height = region.intersection(rows)
            if not (width and rows_height):
                continue
            lines = widget.render_lines(Region(x - region.x, y - region.y, width, rows_height))
            yield region, rows, lines
            if seen.contains_region(crop) and len(lines) == rows_height \
                    and all(line.cell_length >= width for line in lines):
                # Widgets come front to back and the first line drawn at a place wins: what
                # lies behind a widget whose whole lines cover the crop would be thrown away.
                return

    def _seen_rows(self, crop: Region) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """A full update: each widget asked only for its rows where some of it is seen.

        The pieces of each row (a piece starts at a cut) that no widget has drawn yet are
        followed as Textual's _render_chops fills them: widgets come front to back and the
        first strip for a piece wins. A container behind its children, or a widget under a
        dialog, draws nothing that would be thrown away. (Not for a partial update: its
        regions are a few rows, where following the pieces cost more than it saved.)
        """
        top, height = crop.y, crop.height
        cuts = self.cuts
        empty: dict[int, set[int]] = {y: set(cuts[y][:-1]) for y in range(top, top + height)}
        for widget, (region, clip) in list(self.visible_widgets.items()):
            rows = clip.intersection(Region(clip.x, top, clip.width, height))
            x, y, width, rows_height = region.intersection(rows)
            if not (width and rows_height):
                continue
            end_x = x + width
            needed = [row for row in range(y, y + rows_height)
                      if any(x <= cut < end_x for cut in empty[row])]
            for first, last in _runs(needed):
                run = Region(rows.x, first, rows.width, last - first)
                lines = widget.render_lines(Region(x - region.x, first - region.y, width,
                                                   last - first))
                yield region, run, lines
                for row, line in zip(range(first, last), lines, strict=False):
                    # The pieces this line fills in _render_chops: each cut of its columns
                    # whose piece ends within the line's length.
                    drawn = [cut for cut in cuts[row] if x <= cut <= end_x]
                    length = line.cell_length
                    empty[row].difference_update(
                        cut for cut, end in zip(drawn, drawn[1:], strict=False)
                        if end - x <= length)
            if not any(empty.values()):
                return

    def render_partial_update(self) -> ChopsUpdate | None:
        screen_region = self.size.region
        dirty = _merged(region for region in (r.intersection(screen_region)
                                              for r in self._dirty_regions) if region)
        if len(dirty) > MAX_REGIONS:
            return super().render_partial_update()
        self._dirty_regions.clear()
        if not dirty:
            return None
        spans = list(self._regions_to_spans(dirty))
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        for region in dirty:
            part = self._render_chops(region, is_rendered_line)
            x1, x2 = region.x, region.right
            for y in region.line_range:
                line, drawn, cut_set = chops[y], part[y], cuts[y]
                # Only the pieces of line this region reaches: the widgets drawn for it are
                # those it overlaps, so a piece beyond it may hold a container's background
                # where a widget it did not reach is seen. Front to back, as Textual's pass:
                # the first strip found for a piece wins.
                for cut, end in zip(cut_set, cut_set[1:], strict=False):
                    if end > x1 and cut < x2 and line[cut] is None:
                        line[cut] = drawn[cut]
        chop_ends = [cut_set[1:] for cut_set in cuts]
        return ChopsUpdate(chops, spans, chop_ends)


def _runs(rows: list[int]) -> Iterable[tuple[int, int]]:
    """Consecutive rows as (first, last + 1) runs."""
    start = previous = None
    for row in rows:
        if previous is None or row != previous + 1:
            if start is not None and previous is not None:
                yield start, previous + 1
            start = row
        previous = row
    if start is not None and previous is not None:
        yield start, previous + 1


def _merged(regions: Iterable[Region]) -> list[Region]:
    """Regions of the same columns on adjacent rows as one (a tree's two cursor lines)."""
    merged: list[Region] = []
    for region in sorted(regions, key=lambda r: (r.x, r.width, r.y)):
        last = merged[-1] if merged else None
        if last is not None and (last.x, last.width) == (region.x, region.width) \
                and region.y <= last.bottom:
            merged[-1] = last.union(region)
        else:
            merged.append(region)
    return merged
