"""Names from files are cleaned and bounded before they become Projects, pairs or tags."""

from __future__ import annotations

from cci_uploader.names import MAX_NAME, clean_name


def test_clean_name_is_unchanged_and_says_nothing() -> None:
    assert clean_name("Titan Krios G4 3492") == ("Titan Krios G4 3492", "")
    assert clean_name("Mikroskop Å", "the Project name was") == ("Mikroskop Å", "")


def test_control_and_bidi_override_characters_are_removed() -> None:
    name, note = clean_name("Ti\u202etan\x00\x07\tKrios\u2066", "the Project name was")
    assert (name, note) == ("Titan Krios", "the Project name was cleaned of control characters")


def test_long_name_is_shortened_without_reading_all_of_it() -> None:
    name, note = clean_name("K" * 8_000_000, "the Project name was")
    assert name == "K" * MAX_NAME
    assert note == f"the Project name was shortened to {MAX_NAME} characters"


def test_emoji_and_swedish_are_kept() -> None:
    assert clean_name("Göteborg 🔬") == ("Göteborg 🔬", "")
