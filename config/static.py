"""Static files served by the app itself, with DEBUG on or off (whitenoise).

whitenoise's Django middleware is synchronous only. Under daphne every request goes through the
middleware chain in async mode, and a sync-only middleware there runs each request's call on the one
shared sync thread, the stream's requests included. This subclass is async-capable: it looks the
path up in whitenoise's table (a dict lookup) and only opens a file off the event loop.
"""

from __future__ import annotations

import os

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, **kwargs):
        super().__init__(get_response, **kwargs)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def add_files(self, root, prefix=None):
        # STATIC_ROOT exists only after a collectstatic, which `make run` does not need (the files are
        # found where the apps keep them): skip it quietly rather than warn at every start.
        if self.autorefresh or os.path.isdir(root):
            super().add_files(root, prefix)

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        return super().__call__(request)

    def _static_file(self, request):
        if self.autorefresh:
            return self.find_file(request.path_info)
        return self.files.get(request.path_info)

    async def _acall(self, request):
        if self.autorefresh:  # DEBUG: looks on disk, so off the event loop too
            static_file = await sync_to_async(self._static_file, thread_sensitive=False)(request)
        else:
            static_file = self._static_file(request)
        if static_file is None:
            return await self.get_response(request)
        return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
