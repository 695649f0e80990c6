"""Colours shared by the PDF and the PPTX writers: a hex colour as RGB, and the text colour readable on a fill."""

from __future__ import annotations


def rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))


def text_on(fill: str) -> tuple[int, int, int]:
    """Black text on a light fill (yellow, orange), white on a dark one: the level cell stays readable."""
    r, g, b = rgb(fill)
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)
