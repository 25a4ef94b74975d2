"""The session secret setting, the signed cookie and the redirect guard, without a server."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from api.settings import DEV_PSEUDONYM_KEY, DEV_SESSION_SECRET, Settings
from api.web.pages_auth import safe_next
from api.web.svg import quarter_range, sparkline, stacked_bars


def test_prod_refuses_the_dev_session_secret() -> None:
    real = SecretStr("p" * 40)
    with pytest.raises(ValidationError, match="SYNTH_SESSION_SECRET"):
        Settings(env="prod", pseudonym_key=real)
    with pytest.raises(ValidationError, match="32"):
        Settings(env="prod", pseudonym_key=real, session_secret=SecretStr("short"))
    ok = Settings(env="prod", pseudonym_key=real, session_secret=SecretStr("s" * 40))
    assert ok.session_secret.get_secret_value() != DEV_SESSION_SECRET
    assert Settings().session_secret.get_secret_value() == DEV_SESSION_SECRET
    assert DEV_PSEUDONYM_KEY != DEV_SESSION_SECRET


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/themes?network=a", "/themes?network=a"),
        ("/", "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("themes", "/"),
    ],
)
def test_safe_next(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_quarter_range_fills_gaps() -> None:
    assert quarter_range(["2025Q4", "2025Q2", "2026Q1"]) == ["2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    assert quarter_range([]) == []


def test_pictures_escape_their_text_and_carry_a_text_alternative() -> None:
    spark = str(sparkline({"2025Q1": 2, "2025Q3": 5}))
    assert 'role="img"' in spark and "2025Q2 0" in spark and "2025Q3 5" in spark
    bars = str(stacked_bars({"<b>net</b>": {"2025Q1": 3}}, ["2025Q1"], title='A "<chart>"'))
    assert "<b>" not in bars and "&lt;chart&gt;" in bars and "<rect" in bars
    assert str(stacked_bars({}, [], title="x")) == ""
