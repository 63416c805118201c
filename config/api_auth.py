"""API authentication. Kept apart from config.api: DRF imports it while rest_framework.views is loading."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>`` for external frontends (tokens from ``manage.py issue_token``)."""

    keyword = "Bearer"
