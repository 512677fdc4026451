"""A worker gives back the memory of a big response once it is sent: `geoservice serve` runs
with glibc's mmap threshold fixed (server/serving.py MALLOC_ENVIRONMENT)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from geoservice.server.serving import MALLOC_ENVIRONMENT

# A big block freed (glibc then raises its mmap threshold), then 100 blocks of 1 MB, each
# followed by a small block that stays: the freed 1 MB blocks are holes in the heap.
SCRIPT = """
import os, resource
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
big = os.urandom(16 << 20)
del big
blocks, pins = [], []
for _ in range(100):
    blocks.append(os.urandom(1 << 20))
    pins.append(os.urandom(1000))
before = rss_mb()
del blocks
print(before - rss_mb())
"""


def _returned_mb(environment: dict[str, str]) -> float:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **environment},
    )
    return float(run.stdout)


def test_big_blocks_go_back_to_the_system_once_freed():
    assert _returned_mb(MALLOC_ENVIRONMENT) > 90  # the 100 MB, give or take a page table
    assert _returned_mb({}) < 10  # what glibc does by default: the holes stay


def test_the_served_workers_run_with_the_setting(live_server):
    """`geoservice serve` re-runs itself with the setting, so the master and every worker
    (forked from it) have it from their start."""
    port = live_server.rsplit(":", 1)[1]
    found = []
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = status.read_bytes().split(b"\0")
            environ = (status.parent / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in command and b"GEOSERVICE_PORT=" + port.encode() in environ:
            found.append(environ)
    assert found, "no server process found"
    for environ in found:
        for name, value in MALLOC_ENVIRONMENT.items():
            assert f"{name}={value}".encode() in environ


def test_the_image_sets_it_too():
    """The Docker image sets it in its environment, so its server need not re-run itself."""
    from geoservice.settings import PROJECT_ROOT

    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    for name, value in MALLOC_ENVIRONMENT.items():
        assert f"{name}={value}" in dockerfile
