"""What the management commands share: bad input ends in a one-line error and exit code 2.

Exit code 2 is what argparse (and so ``manage.py`` itself) gives a usage error; a command's own
refusals, and the domain's (``live_trading.refusals.Refused``), end the same way, never in a traceback.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from live_trading.refusals import Refused

BAD_INPUT = 2


class RefusingCommand(BaseCommand):
    """A command whose ``CommandError`` and domain refusals exit with code 2, the refusal naming its option."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except Refused as exc:
            raise CommandError(refusal_message(exc, self.option_names()), returncode=BAD_INPUT) from None
        except CommandError as exc:
            if exc.returncode == 1:  # CommandError's default: every refusal of ours is bad input
                raise CommandError(*exc.args, returncode=BAD_INPUT) from None
            raise

    def option_names(self) -> set[str]:
        """The command's options, as typed (``--date``)."""
        parser = self.create_parser("manage.py", self.__module__.rsplit(".", 1)[-1])
        return {s for action in parser._actions for s in action.option_strings}


def refusal_message(exc: Refused, options: set[str]) -> str:
    """``--date: <why>`` when the refusal's subject is an option of the command, else just why."""
    option = f"--{exc.subject.replace('_', '-')}"
    return f"{option}: {exc}" if option in options else str(exc)
