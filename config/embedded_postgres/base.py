"""Django database backend: PostgreSQL, with the embedded server started before the first connection."""

from pathlib import Path

from django.db.backends.postgresql import base

from . import ensure_running


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["host"] = ensure_running(Path(self.settings_dict["EMBEDDED_DATA_DIR"]))
        params.pop("port", None)
        return params
