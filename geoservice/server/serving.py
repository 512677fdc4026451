"""How the server runs: gunicorn, its workers, and what each worker sets up before serving."""

from __future__ import annotations

import email.utils
import time

from geoservice.settings import Settings

THREADS = 4  # per worker: requests waiting on PostgreSQL do not hold the others up


def run(settings: Settings, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", THREADS)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)

        def load(self):  # type: ignore[override]
            # Imported in each worker, not in the master: the master stays small.
            from geoservice.server import heap
            from geoservice.server.app import create_app

            heap.bound()
            _cache_date_header()
            return create_app(settings)

    Server().run()


def _cache_date_header() -> None:
    """gunicorn formats its Date header anew for every response, through email.utils (a few
    percent of a small response's cost): format it once a second."""
    from gunicorn import util

    latest = (0, "")  # (second, its header); replaced whole, so threads read it safely

    def http_date(timestamp: float | None = None) -> str:
        nonlocal latest
        if timestamp is not None:
            return email.utils.formatdate(timestamp, localtime=False, usegmt=True)
        now = int(time.time())
        if latest[0] != now:
            latest = (now, email.utils.formatdate(now, localtime=False, usegmt=True))
        return latest[1]

    util.http_date = http_date
