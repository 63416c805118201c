"""What the management commands share: bad input ends in a one-line error and exit code 2.

Exit code 2 is what argparse (and so ``manage.py`` itself) gives a usage error. Every way a command
can be given bad input ends the same way, never in a traceback or a page of usage:

* an argument argparse refuses (its ``type`` below, a missing or unknown option):
  ``manage.py simulate: error: --date: '2024-13-01' is not a date: month must be in 1..12``;
* a command's own ``CommandError`` and the domain's refusals (``live_trading.refusals.Refused``),
  the refusal naming its option: ``CommandError: --date: no charge rates in force on ...``;
* a file system error (``OSError``), naming the option whose path it concerns.

The argument types (``iso_date``, ``non_negative_int``, ``plain_decimal``, ``vix_level``, ``underlying_name``, ``existing_dir``) check input
at the edge, before anything runs.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.ascii import is_ascii_number, is_plain_decimal, parse_iso_date
from live_trading.refusals import Refused

BAD_INPUT = 2


class OneLineParser(CommandParser):
    """Django's parser, whose errors are one line (``manage.py simulate: error: --date: ...``), exit code 2.

    argparse prints the whole usage before the message, which hides the one line that matters;
    ``--help`` still shows the usage.
    """

    def error(self, message):
        message = message.removeprefix("argument ")  # "argument --date: ..." -> "--date: ..."
        if self.called_from_command_line:
            self.exit(BAD_INPUT, f"{self.prog}: error: {message}\n")
        raise CommandError(message, returncode=BAD_INPUT)  # call_command: the same line, as an exception


class RefusingCommand(BaseCommand):
    """A command whose bad input of any kind ends in one line naming the option, with exit code 2."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = OneLineParser  # Django builds a CommandParser itself; only error() differs
        return parser

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except Refused as exc:
            raise CommandError(refusal_message(exc, self.option_names()), returncode=BAD_INPUT) from None
        except OSError as exc:
            raise CommandError(os_error_message(exc, self.given_texts(options)), returncode=BAD_INPUT) from None
        except CommandError as exc:
            if exc.returncode == 1:  # CommandError's default: every refusal of ours is bad input
                raise CommandError(*exc.args, returncode=BAD_INPUT) from None
            raise

    def parser(self) -> argparse.ArgumentParser:
        return self.create_parser("manage.py", self.__module__.rsplit(".", 1)[-1])

    def option_names(self) -> set[str]:
        """The command's options, as typed (``--date``)."""
        return {s for action in self.parser()._actions for s in action.option_strings}

    def given_texts(self, options: dict) -> list[tuple[str, str]]:
        """The arguments given as text, each with how it is typed: ``[("--data-dir", "/srv/data"), ("paths", "a.csv")]``."""
        given = []
        for action in self.parser()._actions:
            values = options.get(action.dest)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and value:
                    given.append((action.option_strings[-1] if action.option_strings else action.dest, value))
        return given


def refusal_message(exc: Refused, options: set[str]) -> str:
    """``--date: <why>`` when the refusal's subject is an option of the command, else just why."""
    option = f"--{exc.subject.replace('_', '-')}"
    return f"{option}: {exc}" if option in options else str(exc)


def os_error_message(exc: OSError, given: list[tuple[str, str]]) -> str:
    """``--data-dir /proc/foo: No such file or directory: '/proc/foo/imported'``: the option whose path
    the error is about (the path itself or a folder holding it), then the system's reason."""
    if exc.filename is None:
        return str(exc)
    path = Path(os.fsdecode(exc.filename))
    reason = exc.strerror or str(exc)
    for option, value in given:
        given = Path(value)
        if path == given or given in path.parents:
            where = "" if path == given else f": {str(path)!r}"
            return f"{option if option.startswith('-') else 'file'} {value}: {reason}{where}"
    return f"{str(path)!r}: {reason}"


# -- argument types: each refuses with the reason, argparse adds the option ------------------------

def iso_date(text: str):
    """A day written ``YYYY-MM-DD`` in ASCII digits, not after the last day the market data models."""
    from live_trading.marketdata.calendar import LAST_DAY  # numpy and the facts: only when used

    try:
        day = parse_iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if day > LAST_DAY:
        raise argparse.ArgumentTypeError(f"{text!r} is after {LAST_DAY.isoformat()}, the last day the market data models")
    return day


def non_negative_int(text: str) -> int:
    """A whole number of 0 or more, in ASCII digits."""
    if not is_ascii_number(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return int(text)


def whole_number(low: int, high: int, what: str = "a whole number"):
    """An argument type: a whole number in ASCII digits from ``low`` to ``high`` (``--port``: 1 to 65535)."""

    def parse(text: str) -> int:
        if not is_ascii_number(text) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} from {low} to {high}")
        return int(text)

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


port_number = whole_number(1, 65535, "a port number")


def plain_decimal(text: str) -> str:
    """A decimal number in ASCII digits (``20``, ``0.03``, ``-1.5``), kept as text: the domain checks its
    range and places and refuses naming the option."""
    if not is_plain_decimal(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return text


def vix_level(text: str) -> float:
    """A volatility in per cent a year (``14.5``, an India VIX figure) within the synthetic market's bounds."""
    from live_trading.marketdata.daily_path import VIX_BOUNDS

    low, high = VIX_BOUNDS
    if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4})?", text) is None or not low <= float(text) <= high:
        raise argparse.ArgumentTypeError(f"{text!r} is not a volatility in per cent a year from {low:g} to {high:g}")
    return float(text)


def underlying_name(text: str) -> str:
    """The name of a known underlying (``NIFTY``)."""
    from live_trading.marketdata.instruments import get_underlying  # reads the contract facts: only when used

    try:
        get_underlying(text)
    except Refused as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def existing_dir(text: str) -> str:
    """A folder that exists."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an existing folder")
    return text
