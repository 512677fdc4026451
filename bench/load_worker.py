"""Loads on request, in its own process: `bench.load --before REV` runs it with a checkout of
REV first on PYTHONPATH, so the same file goes through the pipeline as it was and as it is.

One JSON object per line on stdin ({"id", "title", "path", "encoding", "dsn"}); answers one
line: {"seconds": ...} or {"error": ...}. Imports happen once, before the first timed load.
Only the standard library and the project's own code (whichever tree PYTHONPATH names).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from geoservice.settings import Settings
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load


def main() -> None:
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        source = {"path": job["path"]}
        if job.get("encoding"):
            source["encoding"] = job["encoding"]
        descriptor = parse_descriptor(
            # published for no one: internal (a public layer must state its licence)
            {"id": job["id"], "title": job["title"], "source": source, "access": "internal"},
            base_dir=Path(job["path"]).parent,
            origin="bench",
        )
        started = time.perf_counter()
        try:
            load(Settings(database_url=job["dsn"]), descriptor)
            answer = {"seconds": time.perf_counter() - started}
        except Exception as err:  # noqa: BLE001 (reported to the benchmark)
            answer = {"error": f"{type(err).__name__}: {str(err)[:500]}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
