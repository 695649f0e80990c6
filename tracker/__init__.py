"""Vaccination target tracker for Tuyên Quang province: the core, without any UI."""

__version__ = "0.1.0"
