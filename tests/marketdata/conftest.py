"""Shared fixtures: synthetic days are generated once per test session (about half a second each)."""

from datetime import date

import pytest

from live_trading.marketdata.synthetic import generate_day

NIFTY_DAY = date(2024, 10, 29)


@pytest.fixture(scope="session")
def nifty_day():
    """NIFTY on Tuesday 29 Oct 2024, seed 0: weekly and monthly expire on Thursday 31 Oct."""
    return generate_day("NIFTY", NIFTY_DAY, 0)


@pytest.fixture(scope="session")
def nifty_expiry_day():
    """NIFTY on its expiry day, Thursday 31 Oct 2024."""
    return generate_day("NIFTY", date(2024, 10, 31), 0)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty market-data folder; MARKET_DATA_DIR points elsewhere so nothing leaks into var/."""
    monkeypatch.setenv("MARKET_DATA_DIR", str(tmp_path / "from-env"))
    path = tmp_path / "market_data"
    path.mkdir()
    return path
