"""Shared fixtures: synthetic days are generated once per test session (about half a second each)."""

import os
from datetime import date

import django
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


@pytest.fixture(scope="module")
def call_command():
    """Django's ``call_command``, with Django set up first (the command modules run without the database)."""
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    return call_command
