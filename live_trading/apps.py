from django.apps import AppConfig


class LiveTradingConfig(AppConfig):
    name = "live_trading"
    verbose_name = "Live trading"
