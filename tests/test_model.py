"""model: the times records carry, read back as from_iso always read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from agenda import model


def _spelled_out(text: object) -> object:
    """What from_iso gave for every time before the shortcut (`model._parsed`), or the
    refusal, as its type and words."""
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)  # type: ignore[attr-defined]
    except Exception as exc:
        return type(exc), str(exc)
    return found, found.tzinfo


def _shortcut(text: object) -> object:
    try:
        found = model._parsed(text)  # type: ignore[arg-type]
    except Exception as exc:
        return type(exc), str(exc)
    return found, found.tzinfo


_MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                   timezone(timedelta(hours=-3))]))
_CHARS = "0123456789-:T.,Z+W z"


@st.composite
def _times(draw: st.DrawFn) -> object:
    """Times as to_iso spells them, and the same with characters changed, dropped or added
    (other offsets, a second "Z", week dates, a space for the "T"), and odd values."""
    text = draw(st.one_of(_MOMENTS.map(model.to_iso), _MOMENTS.map(datetime.isoformat),
                          st.text(_CHARS, max_size=32)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        change = draw(st.sampled_from(["put", "drop", "add"]))
        char = draw(st.sampled_from(_CHARS))
        if change == "put":
            text = text[:at] + char + text[at + 1:]
        elif change == "drop":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + char + text[at:]
    return draw(st.sampled_from([text, text, text, text + "Z", None, ["Z"] * 12]))


@settings(max_examples=1500, deadline=None)
@given(_times())
def test_a_time_is_read_as_the_spelled_out_parse_reads_it(text: object) -> None:
    assert _shortcut(text) == _spelled_out(text)


@given(_MOMENTS)
def test_a_time_to_iso_wrote_reads_back_as_the_same_moment_in_utc(moment: datetime) -> None:
    text = model.to_iso(moment)
    assert model._parsed(text) == moment and model._parsed(text).tzinfo is UTC
    assert model.from_iso(text) is model.from_iso(text)  # kept per string


def test_a_status_spelled_by_str_is_its_value_as_plain_text() -> None:
    """The listing spells a status with `str` (snapshot._row): the value, a plain `str`."""
    from agenda.model import Status

    for status in Status:
        assert str(status) == status.value and type(str(status)) is str
