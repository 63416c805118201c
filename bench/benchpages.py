"""What the two page benchmarks share: their database, day, user and browser."""

from __future__ import annotations

from datetime import date

BENCH_DB = "livesim_bench_pages"
DAY = date(2024, 10, 29)
USERNAME, PASSWORD = "bench-pages", "bench-pages-password-1"
CHROMIUM = "/usr/bin/chromium"


def bench_user():
    """The benchmark's user with a known password (earlier runs' sessions deleted), the example
    straddle and a paper connection: ``(user, strategy, broker, api_token)``."""
    from decimal import Decimal

    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from live_trading.demo import example_graphs
    from live_trading.models import BrokerConnection
    from sessions_app.models import SimulationSession
    from strategies.models import Strategy

    user, _ = User.objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    SimulationSession.objects.filter(owner=user).delete()
    name, _, graph = next(e for e in example_graphs() if "straddle" in e[0].lower())
    strategy, _ = Strategy.objects.get_or_create(owner=user, name=name, defaults={"graph": graph})
    broker, _ = BrokerConnection.objects.get_or_create(
        owner=user, account_id="BENCH-PAGES", defaults={"starting_capital": Decimal("1000000.00")})
    token, _ = Token.objects.get_or_create(user=user)
    return user, strategy, broker, token.key


def launch_chromium(playwright):
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
