"""Codecs for the stored grids, measured on a real grid: zstd (what is stored), deflate (stored before), lz4, dense or sparse.

    .venv/bin/python bench/codec_bench.py [--repeat 5]

zstd is a requirement (``backports.zstd``, the standard library's
``compression.zstd`` from Python 3.14); lz4 is not. To measure it, install it
beside the project without touching its venv, e.g.
``.venv/bin/pip install --target /tmp/codecs lz4`` and run with
``LIQSITE_BENCH_CODECS=/tmp/codecs``; without it its row says "not installed".

Data: the per-bucket layers of the bundled OKX SOL-USDT-SWAP 5m grid
(5 buckets × 4,032 steps × 400 bins per side, float32 as stored, ~92 % zeros),
computed in a throw-away SQLite database as ``bench/compute_bench.py`` does.
Each row encodes one side's layer stack as the codec would: dense (the float32
bytes) or sparse (a bit per cell and the non-zero values, ``grids/codec.py``),
then compresses; the time is the best of ``--repeat`` runs, decompression of
the same bytes beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if os.environ.get("LIQSITE_BENCH_CODECS"):
    sys.path.append(os.environ["LIQSITE_BENCH_CODECS"])


def _codecs() -> dict:
    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd
    found = {
        f"zstd level {level}" + (" (stored)" if level == 1 else ""): (
            lambda b, level=level: zstd.compress(b, level),
            zstd.decompress,
        )
        for level in (1, 3)
    }
    found |= {
        "deflate level 1 (stored before)": (lambda b: zlib.compress(b, 1), zlib.decompress),
        "deflate level 6": (lambda b: zlib.compress(b, 6), zlib.decompress),
    }
    try:
        import lz4.frame

        found["lz4 (frame, default level)"] = (lz4.frame.compress, lz4.frame.decompress)
    except ImportError:
        found["lz4"] = None
    return found


def _sparse(stack: np.ndarray) -> list[bytes]:
    nonzero = stack != 0
    return [np.packbits(nonzero).tobytes(), stack[nonzero].tobytes()]


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from bench.compute_bench import clear_digests, load_sample, recompute, setup_django

    setup_django(Path(tempfile.mkdtemp(prefix="liqsite-codec-")))
    import logging

    logging.disable(logging.INFO)
    load_sample()
    clear_digests()
    recompute()
    from grids.codec import open_archive
    from grids.models import GridSnapshot

    snapshot = GridSnapshot.objects.get(market__symbol="SOL-USDT-SWAP", interval="5m", long_share_method="fixed")
    with open_archive(snapshot.layers) as archive:
        stack = np.ascontiguousarray(archive["layer_long_grid"], dtype=np.float32)
    print(f"layer stack {stack.shape} float32, {stack.nbytes / 1e6:.1f} MB, {100 * (stack == 0).mean():.1f} % zeros")
    print("| encoding | codec | bytes | encode (ms) | decode (ms) |")
    print("|---|---|---:|---:|---:|")
    for name, pair in _codecs().items():
        if pair is None:
            print(f"| — | {name} | not installed | — | — |")
            continue
        compress, decompress = pair
        for layout, parts in (("dense", lambda: [stack.tobytes()]), ("sparse", lambda: _sparse(stack))):
            encoded = [compress(p) for p in parts()]
            encode = _best(lambda: [compress(p) for p in parts()], args.repeat)
            decode = _best(lambda: [decompress(p) for p in encoded], args.repeat)
            size = sum(map(len, encoded))
            label = name if layout == "sparse" else name.split(" (")[0]  # what is or was stored is sparse
            print(f"| {layout} | {label} | {size:,} | {encode * 1000:.1f} | {decode * 1000:.1f} |")


if __name__ == "__main__":
    main()
