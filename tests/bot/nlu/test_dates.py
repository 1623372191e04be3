from datetime import date

import pytest

from quita.bot.nlu.dates import find_dates, is_business_day, nth_business_day, pick_date
from quita.bot.nlu.normalize import normalize

WEDNESDAY = date(2025, 6, 18)  # a Wednesday in the middle of a 30-day month
END_OF_JANUARY = date(2025, 1, 30)  # a Thursday near a month end
DECEMBER = date(2025, 12, 20)  # a Saturday near a year end


def resolve(text: str, today: date, past: bool = False) -> date | None:
    mention = pick_date(find_dates(normalize(text), today, past=past))
    assert mention is not None, text
    return mention.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoje eu pago", date(2025, 6, 18)),
        ("amanhã", date(2025, 6, 19)),
        ("depois de amanhã", date(2025, 6, 20)),
        ("pago dia 25", date(2025, 6, 25)),
        ("pago dia 18", date(2025, 6, 18)),
        ("pago dia 10", date(2025, 7, 10)),  # already past this month: next month
        ("dia primeiro", date(2025, 7, 1)),
        ("dia 1º", date(2025, 7, 1)),
        ("dia dez", date(2025, 7, 10)),
        ("dia 31", date(2025, 6, 30)),  # June has 30 days: its last day
        ("dia 10 do mes que vem", date(2025, 7, 10)),
        ("15/12", date(2025, 12, 15)),
        ("10/01", date(2026, 1, 10)),  # already past this year: next year
        ("20/07/2025", date(2025, 7, 20)),
        ("20/07/25", date(2025, 7, 20)),
        ("15 de dezembro", date(2025, 12, 15)),
        ("sexta", date(2025, 6, 20)),
        ("na sexta-feira eu pago", date(2025, 6, 20)),
        ("segunda", date(2025, 6, 23)),
        ("quarta", date(2025, 6, 25)),  # today is Wednesday: the next one
        ("sabado", date(2025, 6, 21)),
        ("sexta que vem", date(2025, 6, 27)),
        ("proxima sexta", date(2025, 6, 20)),
        ("fim do mês", date(2025, 6, 30)),
        ("final do mes que vem", date(2025, 7, 31)),
        ("daqui 3 dias", date(2025, 6, 21)),
        ("em dez dias", date(2025, 6, 28)),
        ("daqui a duas semanas", date(2025, 7, 2)),
        ("quinto dia útil", date(2025, 7, 7)),  # June's (6th) has passed; July 1st is a Tuesday
        ("5o dia util", date(2025, 7, 7)),
    ],
)
def test_future_dates(text: str, expected: date) -> None:
    assert resolve(text, WEDNESDAY) == expected


def test_month_and_year_rollover() -> None:
    assert resolve("dia 5", END_OF_JANUARY) == date(2025, 2, 5)
    assert resolve("dia 31", END_OF_JANUARY) == date(2025, 1, 31)
    assert resolve("depois de amanha", END_OF_JANUARY) == date(2025, 2, 1)
    assert resolve("fim do mes que vem", END_OF_JANUARY) == date(2025, 2, 28)
    assert resolve("dia 30 do mes que vem", END_OF_JANUARY) == date(2025, 2, 28)
    assert resolve("dia 2", DECEMBER) == date(2026, 1, 2)
    assert resolve("segunda", DECEMBER) == date(2025, 12, 22)
    assert resolve("05/01", DECEMBER) == date(2026, 1, 5)


def test_ranges_are_vague_with_bounds() -> None:
    week = pick_date(find_dates(normalize("semana que vem eu pago"), WEDNESDAY))
    assert week is not None and week.vague
    assert (week.value, week.until) == (date(2025, 6, 23), date(2025, 6, 29))
    month = pick_date(find_dates(normalize("mes que vem"), WEDNESDAY))
    assert month is not None and month.vague
    assert (month.value, month.until) == (date(2025, 7, 1), date(2025, 7, 31))


@pytest.mark.parametrize(
    "text",
    [
        "quando cair o salário eu pago",
        "assim que receber",
        "quando der eu pago",
        "com o 13 eu pago",
        "mais pra frente",
    ],
)
def test_vague_promises_have_no_date(text: str) -> None:
    mention = pick_date(find_dates(normalize(text), WEDNESDAY))
    assert mention is not None
    assert mention.vague and mention.value is None
    assert mention.as_json()["value"] is None


def test_salary_mention_text_stops_at_the_noun() -> None:
    mention = pick_date(find_dates(normalize("quando cair o salario eu pago"), WEDNESDAY))
    assert mention is not None and mention.text == "quando cair o salario"


def test_exact_date_beats_vague_one_and_last_commitment_wins() -> None:
    assert resolve("quando cair o salario, dia 5, eu pago", WEDNESDAY) == date(2025, 7, 5)
    assert resolve("recebo dia 5, pago dia 6", WEDNESDAY) == date(2025, 7, 6)


def test_past_resolution_for_payments_already_made() -> None:
    assert resolve("paguei sexta", WEDNESDAY, past=True) == date(2025, 6, 13)
    assert resolve("paguei dia 10", WEDNESDAY, past=True) == date(2025, 6, 10)
    assert resolve("paguei dia 20", WEDNESDAY, past=True) == date(2025, 5, 20)
    assert resolve("paguei ontem", WEDNESDAY, past=True) == date(2025, 6, 17)
    assert resolve("paguei anteontem", WEDNESDAY, past=True) == date(2025, 6, 16)
    assert resolve("paguei 15/12", WEDNESDAY, past=True) == date(2024, 12, 15)


@pytest.mark.parametrize(
    "text",
    [
        "segunda via do boleto",
        "a quinta parcela",
        "31/02",
        "me manda o boleto",
        "dia 45",
        "terceira vez que peço",
    ],
)
def test_no_date(text: str) -> None:
    assert find_dates(normalize(text), WEDNESDAY) == []


def test_business_days_skip_weekends_and_national_holidays() -> None:
    assert not is_business_day(date(2025, 12, 25))
    assert not is_business_day(date(2025, 6, 21))
    assert nth_business_day(2025, 1, 1) == date(2025, 1, 2)  # 1 January is a holiday
    assert nth_business_day(2025, 5, 5) == date(2025, 5, 8)  # 1 May holiday, 3-4 weekend
