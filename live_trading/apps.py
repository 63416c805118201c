from django.apps import AppConfig


class LiveTradingConfig(AppConfig):
    name = "live_trading"
    verbose_name = "Live trading"

    def ready(self):
        # A deployment's own instruments' data file (settings.UNDERLYINGS_FILE): read once at start, so a
        # file that does not parse stops the server with its message instead of failing a session later.
        from django.conf import settings

        from live_trading.marketdata import universe

        if settings.UNDERLYINGS_FILE is not None:
            universe.use_universe(universe.Universe.from_file(settings.UNDERLYINGS_FILE))
