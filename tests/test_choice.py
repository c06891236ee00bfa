"""The answers at the selection and yes/no prompts (issue 12, points 11 and 12)."""

from __future__ import annotations

import pytest

from a21import import i18n
from a21import.choice import describe_rows, parse_choice, parse_yes_no, yes_no_hint
from a21import.errors import BadInput

MARKED = [1, 2, 3, 4, 5, 6]
UNMARKED = {7: "the policy is already stored"}


@pytest.mark.parametrize(("answer", "chosen"), [
    ("", {1, 2, 3, 4, 5, 6}), ("all", {1, 2, 3, 4, 5, 6}), ("Wszystkie", {1, 2, 3, 4, 5, 6}),
    ("none", set()), ("żadne", set()), ("2,5-6", {2, 5, 6}), ("6-5, 2", {2, 5, 6}), ("-2,5-6", {1, 3, 4}),
    ("-3-1", {4, 5, 6}), (" 4 ", {4}),
])
def test_the_answers_that_choose_rows(answer, chosen):
    assert parse_choice(answer, MARKED, 7, UNMARKED) == chosen


@pytest.mark.parametrize(("answer", "says"), [
    ("8", "Row 8 is outside the range 1–7."), ("0-2", "Row 0 is outside the range 1–7."),
    ("abc", "'abc' is not a row number"), ("7", "Row 7 cannot be chosen: the policy is already stored"),
    ("-7", "Row 7 cannot be chosen"), (",", "-2,5-7"),
])
def test_every_wrong_answer_says_what_is_expected(answer, says):
    with pytest.raises(BadInput) as caught:
        parse_choice(answer, MARKED, 7, UNMARKED)
    assert says in caught.value.message


def test_chosen_rows_are_described_as_ranges():
    assert describe_rows({1, 2, 3, 5, 7, 8}) == "1–3, 5, 7–8" and describe_rows({4}) == "4"


def test_yes_no_follows_the_language():
    previous = i18n.language()
    try:
        i18n.setup("pl")
        assert yes_no_hint(True) == "[T/n]" and yes_no_hint(False) == "[t/N]"
        with pytest.raises(BadInput) as caught:
            parse_yes_no("może", True)
        assert caught.value.message == "Odpowiedz t (tak) albo n (nie)."
        i18n.setup("en")
        assert yes_no_hint(True) == "[Y/n]"
    finally:
        i18n.setup(previous)
    for answer, value in (("t", True), ("TAK", True), ("y", True), ("yes", True), ("n", False), ("nie", False),
                          ("no", False), ("", True)):
        assert parse_yes_no(answer, True) is value
    assert parse_yes_no("", False) is False
