"""Read speed and loss from an sd-scripts training log (tqdm "steps" bar).

A small Python fallback for machines without node (the GPU machine): the app's own parser is
core/runs/progress-parser.ts (`npm run -s cli -- run parse-log FILE --json`). This one reads only
what the harness records: the last step count, tqdm's rate and the average loss.

tqdm redraws its bar with carriage returns, so one "line" of the file can hold many redraws;
we split on both \\r and \\n. Rate format: "{rate:5.2f}it/s", or "{1/rate:5.2f}s/it" below 1 it/s.
"""

from __future__ import annotations

import re
from typing import Any

STEP_RE = re.compile(
    r"steps:\s*(?P<pct>\d+)%\|[^|]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[\d:]+)<(?P<remaining>[\d:?]+),\s*(?P<rate>[\d.]+|\?)(?P<unit>it/s|s/it)"
    r"(?:,\s*(?P<postfix>[^\]]*))?\]"
)
LOSS_RE = re.compile(r"avr_loss=(?P<loss>[-+\w.]+)")
OOM_RE = re.compile(r"CUDA out of memory|OutOfMemoryError")


def clock_seconds(text: str) -> int | None:
    """tqdm intervals: [H:]MM:SS."""
    if not re.fullmatch(r"\d+(:\d+){1,2}", text):
        return None
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


def parse_progress(text: str) -> dict[str, Any]:
    last: dict[str, Any] | None = None
    count = 0
    for piece in re.split(r"[\r\n]+", text):
        m = STEP_RE.search(piece)
        if not m:
            continue
        count += 1
        rate_text = m.group("rate")
        rate = None
        if rate_text != "?" and float(rate_text) > 0:
            rate = float(rate_text) if m.group("unit") == "it/s" else 1.0 / float(rate_text)
        loss = None
        if m.group("postfix"):
            lm = LOSS_RE.search(m.group("postfix"))
            if lm:
                try:
                    loss = float(lm.group("loss"))
                except ValueError:
                    loss = None
        last = {
            "step": int(m.group("n")),
            "total": int(m.group("total")),
            "elapsed_s": clock_seconds(m.group("elapsed")),
            "it_per_s": rate,
            "avr_loss": loss,
        }
    return {
        "progress_lines": count,
        "last": last,
        "out_of_memory": bool(OOM_RE.search(text)),
    }


def steady_rate(step_times: list[tuple[int, float]] | list[list[float]], skip: int = 2) -> float | None:
    """Optimizer steps per second between step `skip` and the last step (warm-up excluded)."""
    points = [(int(n), float(t)) for n, t in step_times if int(n) > skip]
    if len(points) < 2:
        return None
    (n0, t0), (n1, t1) = points[0], points[-1]
    if t1 <= t0:
        return None
    return (n1 - n0) / (t1 - t0)
