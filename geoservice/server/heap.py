"""Give memory back after a big response, so a worker's size follows its current work.

A page of heavy polygons or of 1,000 points is a few big strings (the JSON PostgreSQL wrote,
then its bytes). glibc serves a big allocation with its own mmap, returned to the system on
free, but after the first such free it raises that threshold to the freed size, and from
then on big strings come from the heap, where freed memory mostly stays in the process. With
4 threads per worker, each with its own heap arena, a worker serving the 55 prefectures grew
by 30-100 MB and kept it. Fixing the threshold at glibc's default keeps big blocks mmapped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

LOG = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's default; setting it explicitly turns off the raising


def bound() -> bool:
    """Keep big allocations mmapped in this process (and the ones it forks). False off glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # musl, macOS: no mallopt, nothing to do
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    if not ok:
        LOG.warning("mallopt(M_MMAP_THRESHOLD) refused; big responses may stay in the heap")
    return ok
