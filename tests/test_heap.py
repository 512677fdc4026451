"""geoservice.server.heap: a worker gives back the memory of a big response once it is sent."""

from __future__ import annotations

import subprocess
import sys

# A big block freed (glibc then raises its mmap threshold), then 100 blocks of 1 MB, each
# followed by a small block that stays: the freed 1 MB blocks are holes in the heap.
SCRIPT = """
import os, resource, sys
from geoservice.server import heap
if sys.argv[1] == "bound":
    assert heap.bound()
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


def _returned_mb(mode: str) -> float:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    )
    return float(run.stdout)


def test_big_blocks_go_back_to_the_system_once_freed():
    assert _returned_mb("bound") > 90  # the 100 MB, give or take a page table
    assert _returned_mb("default") < 10  # what glibc does by default: the holes stay
