"""How long a QR mark takes to render (PRODUCT.md §7: mark PNG median under 15 ms, cached after).

    .venv/bin/python bench/bench_marks.py [--runs 200] [--size-mm 25] [--dpi 600]

Measured side by side in one run:
- the mark PNG, uncached (a new certificate number each time, so nothing is reused
  but the loaded font), the same for SVG and PDF;
- the cached lookup through ``render_mark`` (the process-wide ``MarkCache``);
- for reference, the ``qrcode`` package alone: the symbol and its own PIL image at
  the same module size, saved as PNG.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version

import qrcode
import qrcode.constants

from registry.marks import (
    DEFAULT_DPI,
    DEFAULT_SIZE_MM,
    build_qr,
    mark_url,
    render_mark,
    render_pdf,
    render_png,
    render_svg,
)

BASE = "https://verify.starmark.cn"


def number(i: int) -> str:
    return f"SM-2026-GD-{i:08d}-ABCDEFGHIJ"  # 30 characters, like a real one


def measure(fn: Callable[[int], object], runs: int) -> list[float]:
    fn(-1)  # warm up: imports, the font, FreeType faces
    times = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[94]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--size-mm", type=float, default=DEFAULT_SIZE_MM)
    parser.add_argument("--dpi", type=int, default=DEFAULT_DPI)
    args = parser.parse_args()
    size_mm, dpi, runs = args.size_mm, args.dpi, args.runs

    def url(i: int) -> str:
        return mark_url(public_base_url=BASE, number=number(i))

    def png(i: int) -> bytes:
        return render_png(url=url(i), number=number(i), level="five_star", size_mm=size_mm, dpi=dpi)

    def svg(i: int) -> bytes:
        return render_svg(url=url(i), number=number(i), level="five_star", size_mm=size_mm)

    def pdf(i: int) -> bytes:
        return render_pdf(url=url(i), number=number(i), level="five_star", size_mm=size_mm, dpi=dpi)

    def cached(_: int) -> bytes:
        return render_mark(
            "png", url=url(0), number=number(0), level="five_star", size_mm=size_mm, dpi=dpi
        )

    width_px = round(size_mm / 25.4 * dpi)
    modules = len(build_qr(url=url(0)).get_matrix())
    box = width_px // modules

    def qrcode_only(i: int) -> bytes:
        qr = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4
        )
        qr.add_data(url(i))
        qr.make(fit=True)
        out = io.BytesIO()
        qr.make_image().save(out)
        return out.getvalue()

    def symbol_only(i: int) -> object:
        return build_qr(url=url(i)).get_matrix()

    rows = [
        ("mark PNG, uncached", measure(png, runs), len(png(0))),
        ("mark PNG, cached (render_mark)", measure(cached, runs), len(cached(0))),
        ("mark SVG, uncached", measure(svg, runs), len(svg(0))),
        ("mark PDF, uncached", measure(pdf, runs), len(pdf(0))),
        ("qrcode alone: symbol + its PIL PNG", measure(qrcode_only, runs), len(qrcode_only(0))),
        ("qrcode alone: symbol (make, fit=True)", measure(symbol_only, runs), 0),
    ]

    print("bench_marks: QR mark rendering")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )
    print(
        f"libraries: qrcode {version('qrcode')}, Pillow {version('pillow')}, "
        f"fonttools {version('fonttools')}"
    )
    print(
        f"mark: {size_mm:g} mm at {dpi} dpi = {width_px} px wide, QR {modules} modules "
        f"(quiet zone included) at {box} px a module, {runs} runs each\n"
    )
    print(f"{'what':40} {'median ms':>10} {'p95 ms':>10} {'bytes':>8}")
    for name, times, size in rows:
        print(f"{name:40} {statistics.median(times):10.3f} {p95(times):10.3f} {size or '':>8}")
    median_png = statistics.median(rows[0][1])
    print(
        f"\nmark PNG median {median_png:.2f} ms against the 15 ms target: "
        f"{'met' if median_png < 15 else 'NOT met'}; "
        f"cached lookup is {median_png / statistics.median(rows[1][1]):.0f}x faster"
    )


if __name__ == "__main__":
    main()
