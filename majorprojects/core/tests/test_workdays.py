"""Statutory working days: chinese-calendar's 2026 arrangement (Spring Festival 15–23 Feb with
make-up Saturdays 14 and 28 Feb; National Day 1–7 Oct with make-up Sunday 20 Sep and Saturday
10 Oct) and the Monday–Friday fallback for a year the package does not know yet (2027)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from majorprojects.core.workdays import (
    add_workdays,
    calendar_known,
    is_workday,
    next_workday,
    workdays_between,
)

D = date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 1, 1), False),  # New Year's Day
        (D(2026, 1, 4), True),  # Sunday made up for New Year
        (D(2026, 2, 13), True),  # Friday before Spring Festival
        (D(2026, 2, 14), True),  # Saturday, make-up working day (调休)
        (D(2026, 2, 15), False),  # Spring Festival starts
        (D(2026, 2, 23), False),  # last day of the Spring Festival holiday (a Monday)
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday, make-up working day
        (D(2026, 3, 1), False),  # ordinary Sunday
        (D(2026, 9, 20), True),  # Sunday, make-up for National Day
        (D(2026, 9, 25), False),  # Mid-autumn Festival (a Friday)
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),  # last day of National Day holiday (a Wednesday)
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday, make-up working day
        (D(2026, 10, 11), False),
        (D(2026, 11, 23), True),  # an ordinary Monday
        (D(2027, 1, 1), True),  # unknown year: Friday → working day by the Mon–Fri fallback
        (D(2027, 1, 2), False),  # unknown year: Saturday
        (D(2027, 10, 1), True),  # unknown year: National Day not known yet, a Friday
    ],
)
def test_is_workday(day, expected):
    assert is_workday(day) is expected


def test_calendar_known_for_shipped_years_only():
    assert calendar_known(2026)
    assert not calendar_known(2027)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 10, 1), D(2026, 10, 8)),
        (D(2026, 10, 4), D(2026, 10, 8)),
        (D(2026, 10, 7), D(2026, 10, 8)),
        (D(2026, 10, 8), D(2026, 10, 8)),  # a working day is its own next working day
        (D(2026, 2, 15), D(2026, 2, 24)),
        (D(2026, 2, 20), D(2026, 2, 24)),
        (D(2026, 2, 28), D(2026, 2, 28)),  # make-up Saturday does not move
        (D(2026, 3, 28), D(2026, 3, 30)),  # ordinary weekend
        (D(2026, 9, 25), D(2026, 9, 28)),  # Mid-autumn Friday + weekend
        (D(2026, 12, 31), D(2026, 12, 31)),
        (D(2027, 1, 2), D(2027, 1, 4)),  # fallback: Saturday → Monday
    ],
)
def test_next_workday(day, expected):
    assert next_workday(day) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 2, 13), 0, D(2026, 2, 13)),
        # Fri 13 Feb + 1 → Sat 14 Feb, a make-up working day
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        # then nine holidays (15–23 Feb): the 2nd working day is Tue 24 Feb
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        # 24, 25, 26, 27 Feb and make-up Saturday 28 Feb: the 5th working day after 23 Feb is 28 Feb
        (D(2026, 2, 23), 5, D(2026, 2, 28)),
        (D(2026, 2, 23), 6, D(2026, 3, 2)),
        # 28, 29, 30 Sep are working days, 1–7 Oct holidays, 8 Oct the 4th
        (D(2026, 9, 27), 4, D(2026, 10, 8)),
        # "20 working days" from 30 Sep: 8, 9, 10 (Sat, make-up), 12–16, 19–23, 26–30 Oct = 18;
        # 2 Nov = 19, 3 Nov = 20
        (D(2026, 9, 30), 20, D(2026, 11, 3)),
        # unknown year: plain weekdays (Fri 31 Dec 2027 + 1 → Mon 3 Jan 2028)
        (D(2027, 12, 31), 1, D(2028, 1, 3)),
    ],
)
def test_add_workdays(start, days, expected):
    assert add_workdays(start, days) == expected


def test_add_workdays_refuses_negative():
    with pytest.raises(ValueError):
        add_workdays(D(2026, 10, 8), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 10, 8), D(2026, 10, 8), 0),
        # (30 Sep, 8 Oct]: only 8 Oct works
        (D(2026, 9, 30), D(2026, 10, 8), 1),
        # (13 Feb, 28 Feb]: 14, 24, 25, 26, 27, 28 → 6
        (D(2026, 2, 13), D(2026, 2, 28), 6),
        (D(2026, 2, 28), D(2026, 2, 13), -6),
        # the whole of 2026: 365 days − 104 weekend days − 19 holidays falling on weekdays
        # (New Year 2, Spring Festival 6, Qingming 1, Labour Day 3, Dragon Boat 1, Mid-autumn 1,
        # National Day 5) + 6 make-up weekend days = 248
        (D(2025, 12, 31), D(2026, 12, 31), 365 - 104 - 19 + 6),
    ],
)
def test_workdays_between(start, end, expected):
    assert workdays_between(start, end) == expected


days_2026_27 = st.dates(min_value=D(2026, 1, 1), max_value=D(2027, 12, 31))


@given(start=days_2026_27, days=st.integers(min_value=0, max_value=60))
def test_add_workdays_inverts_workdays_between(start, days):
    end = add_workdays(start, days)
    assert workdays_between(start, end) == days
    assert days == 0 or is_workday(end)


@given(day=days_2026_27)
def test_next_workday_is_the_first_working_day_on_or_after(day):
    nxt = next_workday(day)
    assert nxt >= day and is_workday(nxt)
    assert all(not is_workday(day + timedelta(days=n)) for n in range((nxt - day).days))


@given(a=days_2026_27, b=days_2026_27, c=days_2026_27)
def test_workdays_between_is_additive(a, b, c):
    assert workdays_between(a, c) == workdays_between(a, b) + workdays_between(b, c)
