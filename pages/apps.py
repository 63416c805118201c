from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The trader's server-rendered pages: the first view from the same functions as the REST API, then
    the same REST API and stream external frontends use (no private back doors)."""

    name = "pages"
