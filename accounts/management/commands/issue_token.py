"""Print a user's API token, creating it if missing; ``--rotate`` replaces it."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.cli import RefusingCommand


class Command(RefusingCommand):
    help = "Print USERNAME's API token (for `Authorization: Bearer <token>`), creating it if missing."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true",
            help="Replace the token with a new one; clients using the old one get 401 from then on.",
        )

    def handle(self, username, rotate, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username!r} is inactive; the API would refuse its token.")
        with transaction.atomic():
            if rotate:
                Token.objects.filter(user=user).delete()
            token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
