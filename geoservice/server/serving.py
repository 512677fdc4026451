"""How the server runs: gunicorn, its workers, and the environment they start with."""

from __future__ import annotations

import os
import sys

from geoservice.settings import Settings

THREADS = 4  # per worker: requests waiting on PostgreSQL do not hold the others up
# A page of heavy polygons is a few big strings. glibc serves a big allocation with its own
# mmap, returned to the system when freed, but after the first such free it raises that
# threshold to the freed size, and later big strings come from the heap, where freed memory
# mostly stays, so a worker serving heavy polygons keeps what it once held. Setting the
# threshold, to glibc's default, turns the raising off; glibc reads it from the environment
# at start.
MALLOC_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def exec_with_malloc_environment(arguments: list[str]) -> None:
    """Run this command again with MALLOC_ENVIRONMENT set, unless the environment sets it
    (as the Docker image does); returns only when it is already in force."""
    if all(name in os.environ for name in MALLOC_ENVIRONMENT):
        return
    environment = {**MALLOC_ENVIRONMENT, **os.environ}
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "geoservice", *arguments], environment)


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
            from geoservice.server.app import create_app

            return create_app(settings)

    Server().run()
