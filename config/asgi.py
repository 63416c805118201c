"""ASGI entry point, served by daphne."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings
from django.core.asgi import get_asgi_application

from config.bodies import bounded_bodies

# static files too, DEBUG or not (config/static.py); bodies bounded before Django reads them
application = bounded_bodies(get_asgi_application())

if "daphne.server" in sys.modules and settings.IMMEDIATE_WRITES:
    from config import immediate_writes

    immediate_writes.install()  # stream events reach clients a loop turn sooner (see the module)

if "daphne.server" in sys.modules:
    from live_trading.adoption import start_adopter

    start_adopter()  # sessions whose owner process is gone are taken over here (docs/runner.md)
