"""The two management commands, once each, through call_command (no database involved)."""

import os

import django
import pytest
from django.conf import settings


@pytest.fixture(scope="module")
def call_command():
    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    return call_command


def test_generate_market_data_writes_trading_days_of_a_range(call_command, data_dir, capsys):
    call_command("generate_market_data", "--underlying", "NIFTY", "--date", "2024-10-31", "--to", "2024-11-01",
                 "--seed", "5", "--data-dir", str(data_dir))
    files = sorted(p.name for p in (data_dir / "synthetic" / "NIFTY").iterdir())
    assert files == ["2024-10-31.seed5.v1.parquet"]  # 1 Nov 2024 is a holiday
    assert "generated" in capsys.readouterr().out


def test_import_market_data_refuses_bad_input_with_a_command_error(call_command, data_dir, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,symbol,price\n2024-10-29 09:15:00,NIFTY:2024-10-31:OPT:24300:CE,101.02\n")
    with pytest.raises(CommandError, match=r"bad.csv, line 2, field 'price'"):
        call_command("import_market_data", str(bad), "--data-dir", str(data_dir))
    assert list(data_dir.rglob("*")) == []
