"""Colombian legal terms, computed independently of the daemon.

The integration tests must not ask the daemon (`ventanilla calendar ...`) for
the dates they then expect from it: a calendar that is one day off would agree
with itself. This module is the tests' own reference, written from the rules
(shared domain reference; Ley 51 de 1983, Ley 1755 de 2015, Ley 4 de 1913
art. 62), not from src/core/calendar.c:

- Holidays: the list below is written out literally, one line per year. It was
  drawn up from the Ley 51 de 1983 rules (fixed: 1 Jan, 1 May, 20 Jul, 7 Aug,
  8 Dec, 25 Dec, Jueves and Viernes Santo; moved to the next Monday unless a
  Monday: 6 Jan, 19 Mar, 29 Jun, 15 Aug, 12 Oct, 1 Nov, 11 Nov; Mondays after
  Easter: +43 Ascensión, +64 Corpus Christi, +71 Sagrado Corazón) and checked
  against the published 2024-2026 calendars. Two feasts on one day (30 June
  2025) count as one day off.
- Business days: Monday to Friday, not a holiday, not one of the entity's
  configured non-working days.
- Receipt: an item received on a business day before the office closes
  (default 17:00 America/Bogota, UTC-5 all year, no DST) counts as filed that
  day; otherwise it counts as filed on the next business day.
- Due date: the term-th business day after the filing day (day 1 is the
  business day after it).

    import legal_calendar as LC
    LC.due_date("2025-06-27T10:00:00-05:00", "peticion", "general")  # '2025-07-21'
"""
import datetime

BOGOTA = datetime.timezone(datetime.timedelta(hours=-5))
CLOSING = (17, 0)

# Default terms in business days (Ley 1755 de 2015); felicitación has none.
TERMS = {
    ("peticion", "general"): 15,
    ("peticion", "documentos"): 10,
    ("peticion", "consulta"): 30,
    ("queja", None): 15,
    ("reclamo", None): 15,
    ("sugerencia", None): 15,
    ("denuncia", None): 15,
    ("felicitacion", None): None,
}

# Colombian public holidays, month-day, by year (Ley 51 de 1983).
_HOLIDAYS_MD = {
    2023: ("01-01", "01-09", "03-20", "04-06", "04-07", "05-01", "05-22", "06-12", "06-19", "07-03",
           "07-20", "08-07", "08-21", "10-16", "11-06", "11-13", "12-08", "12-25"),
    2024: ("01-01", "01-08", "03-25", "03-28", "03-29", "05-01", "05-13", "06-03", "06-10", "07-01",
           "07-20", "08-07", "08-19", "10-14", "11-04", "11-11", "12-08", "12-25"),
    # 30 June 2025 is both Sagrado Corazón and San Pedro y San Pablo.
    2025: ("01-01", "01-06", "03-24", "04-17", "04-18", "05-01", "06-02", "06-23", "06-30",
           "07-20", "08-07", "08-18", "10-13", "11-03", "11-17", "12-08", "12-25"),
    2026: ("01-01", "01-12", "03-23", "04-02", "04-03", "05-01", "05-18", "06-08", "06-15", "06-29",
           "07-20", "08-07", "08-17", "10-12", "11-02", "11-16", "12-08", "12-25"),
    2027: ("01-01", "01-11", "03-22", "03-25", "03-26", "05-01", "05-10", "05-31", "06-07", "07-05",
           "07-20", "08-07", "08-16", "10-18", "11-01", "11-15", "12-08", "12-25"),
    2028: ("01-01", "01-10", "03-20", "04-13", "04-14", "05-01", "05-29", "06-19", "06-26", "07-03",
           "07-20", "08-07", "08-21", "10-16", "11-06", "11-13", "12-08", "12-25"),
    2029: ("01-01", "01-08", "03-19", "03-29", "03-30", "05-01", "05-14", "06-04", "06-11", "07-02",
           "07-20", "08-07", "08-20", "10-15", "11-05", "11-12", "12-08", "12-25"),
    # 1 July 2030 is both Sagrado Corazón and San Pedro y San Pablo.
    2030: ("01-01", "01-07", "03-25", "04-18", "04-19", "05-01", "06-03", "06-24", "07-01",
           "07-20", "08-07", "08-19", "10-14", "11-04", "11-11", "12-08", "12-25"),
    2031: ("01-01", "01-06", "03-24", "04-10", "04-11", "05-01", "05-26", "06-16", "06-23", "06-30",
           "07-20", "08-07", "08-18", "10-13", "11-03", "11-17", "12-08", "12-25"),
    2032: ("01-01", "01-12", "03-22", "03-25", "03-26", "05-01", "05-10", "05-31", "06-07", "07-05",
           "07-20", "08-07", "08-16", "10-18", "11-01", "11-15", "12-08", "12-25"),
    2033: ("01-01", "01-10", "03-21", "04-14", "04-15", "05-01", "05-30", "06-20", "06-27", "07-04",
           "07-20", "08-07", "08-15", "10-17", "11-07", "11-14", "12-08", "12-25"),
    2034: ("01-01", "01-09", "03-20", "04-06", "04-07", "05-01", "05-22", "06-12", "06-19", "07-03",
           "07-20", "08-07", "08-21", "10-16", "11-06", "11-13", "12-08", "12-25"),
    2035: ("01-01", "01-08", "03-19", "03-22", "03-23", "05-01", "05-07", "05-28", "06-04", "07-02",
           "07-20", "08-07", "08-20", "10-15", "11-05", "11-12", "12-08", "12-25"),
}

HOLIDAYS = {y: frozenset(datetime.date.fromisoformat("%d-%s" % (y, md)) for md in mds)
            for y, mds in _HOLIDAYS_MD.items()}


def holidays(year):
    """The set of holiday dates of year; refuses a year the table lacks."""
    try:
        return HOLIDAYS[year]
    except KeyError:
        raise AssertionError("tests/integration/legal_calendar.py has no holidays for %d: "
                             "add that year's line (Ley 51 de 1983)" % year) from None


def as_date(d):
    return datetime.date.fromisoformat(d) if isinstance(d, str) else d


def is_business(d, extra=()):
    """True on a weekday that is neither a holiday nor one of extra (dates or ISO strings)."""
    d = as_date(d)
    return d.weekday() < 5 and d not in holidays(d.year) and d not in {as_date(x) for x in extra}


def add_business_days(d, n, extra=()):
    """The n-th business day strictly after d (before it when n < 0; d itself when 0)."""
    d = as_date(d)
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += datetime.timedelta(days=step)
        if is_business(d, extra):
            left -= 1
    return d


def as_bogota(moment):
    """An aware datetime (or ISO 8601 string with an offset) in Bogotá time."""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a receipt time needs its UTC offset: %r" % moment)
    return moment.astimezone(BOGOTA)


def filed_date(moment, closing=CLOSING, extra=()):
    """The day a receipt at moment counts as filed: that day if it is a business
    day and the office is still open, else the next business day."""
    t = as_bogota(moment)
    d = t.date()
    if is_business(d, extra) and (t.hour, t.minute) < tuple(closing):
        return d
    return add_business_days(d, 1, extra)


def term(type_, petition_class=None):
    """The default term in business days of a type (and petition class), or None."""
    if type_ == "peticion":
        return TERMS[("peticion", petition_class or "general")]
    return TERMS[(type_, None)]


def due_date(received_at, type_="peticion", petition_class=None, days=None, closing=CLOSING, extra=()):
    """The due date (YYYY-MM-DD) of an item received at received_at; days overrides the term."""
    n = days if days is not None else term(type_, petition_class)
    if n is None:
        return None
    return add_business_days(filed_date(received_at, closing, extra), n, extra).isoformat()


def _self_check():
    # The domain reference's 2025 list, as printed there.
    ref_2025 = ("01-01 01-06 03-24 04-17 04-18 05-01 06-02 06-23 06-30 07-20 08-07 08-18 10-13 "
                "11-03 11-17 12-08 12-25").split()
    assert _HOLIDAYS_MD[2025] == tuple(ref_2025)
    for y, days in HOLIDAYS.items():
        assert all(d.year == y for d in days), y
        assert 17 <= len(days) <= 18, (y, len(days))
    assert due_date("2025-06-27T10:00:00-05:00") == "2025-07-21"  # day 1 is Tue 1 July


_self_check()
