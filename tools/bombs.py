"""Decompression bombs: a few KiB of gzip that expand to as much padding as asked (tests, benchmarks)."""

from __future__ import annotations

import zlib

GZIP_WBITS = 31  # zlib's gzip framing: what `gzip.compress` writes, built here piece by piece
PIECE = 1024 * 1024


def gzip_bomb(head: bytes, padding: bytes, expanded: int, tail: bytes = b"") -> bytes:
    """`head`, then `padding` repeated to `expanded` bytes, then `tail`, gzip-compressed as it is produced
    (never held expanded: deflate packs a repeated byte about 1,000 to 1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, GZIP_WBITS)
    parts = [compressor.compress(head)]
    piece = padding * (PIECE // len(padding))
    left = expanded
    while left > 0:
        parts.append(compressor.compress(piece[:left]))
        left -= len(piece)
    parts.append(compressor.compress(tail))
    parts.append(compressor.flush())
    return b"".join(parts)
