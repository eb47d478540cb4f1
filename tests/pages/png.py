"""A tiny PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium's screenshots are), for pixel checks."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def decode_png(data: bytes) -> np.ndarray:
    """Pixels as a uint8 array of shape (height, width, channels)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour_type}, interlace {interlace})")
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + previous) & 0xFF
        else:
            row = _unfilter_sequential(kind, line, previous, channels)
        out[y] = row
        previous = row
    return out.reshape(height, width, channels)


def _unfilter_sequential(kind: int, line: np.ndarray, previous: np.ndarray, bpp: int) -> np.ndarray:
    row = np.zeros_like(line)
    for i in range(len(line)):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            predictor = a
        elif kind == 3:
            predictor = (a + b) // 2
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
        else:
            raise ValueError(f"bad PNG filter {kind}")
        row[i] = (line[i] + predictor) & 0xFF
    return row


def colours_present(pixels: np.ndarray, palette: list[str], *, tolerance: int = 40, minimum: int = 20) -> list[str]:
    """Which palette colours (``#rrggbb``) at least ``minimum`` pixels are within ``tolerance`` of."""
    rgb = pixels[..., :3].reshape(-1, 3).astype(np.int32)
    found = []
    for colour in palette:
        target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        if int((np.abs(rgb - target).max(axis=1) <= tolerance).sum()) >= minimum:
            found.append(colour)
    return found
