"""Files written whole: the pages and charts that people open while runs rewrite them."""

from __future__ import annotations

import uuid
from pathlib import Path


def write_whole(path: str | Path, content: str | bytes) -> str:
    """Write a file atomically: a reader never sees half of it, and two runs writing it at
    once (two months of a backfill on two workers) each replace it whole; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    if isinstance(content, bytes):
        partial.write_bytes(content)
    else:
        partial.write_text(content, encoding="utf-8")
    partial.replace(path)
    return str(path.resolve())
