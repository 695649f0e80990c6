"""Vaccination target tracker for Tuyên Quang province: the core, without any UI."""

import os

__version__ = "0.1.0"

# The tracker does no linear algebra, but importing numpy starts OpenBLAS's thread per core: 0.1-0.15 s
# of CPU on every command here (docs/performance.md). Set before numpy is imported; a value given wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
