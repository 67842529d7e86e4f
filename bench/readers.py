"""Benchmark: latency from a reader's frame on the wire to the `CardRead` in the consumer's hands.

For each baud rate, a writer process owns a real pty pair and plays RDM6300 frames (14 bytes) into
the master, paced byte by byte as a UART would: byte j of a frame is written when its stop bit would
end, ``(j + 1) * 10 / baud`` after the frame's start bit (8N1 = 10 bits per byte). A pty does not
pace by baud itself, so without this the floor would be fictitious. The driver (`SerialFrameReader`,
pyserial on the slave end, debounce off, every id distinct) delivers reads to a sink that stamps
them. Clocks: both processes use ``time.perf_counter`` (CLOCK_MONOTONIC, shared system-wide).

Latency = delivery time - frame start; floor = 14 bytes * 10 bits / baud, the time the frame needs
on the wire; overhead = latency - floor = delivery time - arrival of the frame's last byte (see
`run` for how the writer's own scheduling lag is kept out). Prints one JSON line per baud rate.

    .venv/bin/python bench/readers.py [--reads 10000] [--baud 9600 --baud 115200] [--gap-ms 1]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.base import ReaderEvent
from drivers.card import CardRead
from drivers.frames import encode_frame
from drivers.serial_reader import SerialFrameReader

FRAME_BYTES = 14


def card_hex(i: int) -> str:
    return f"{0x1000000000 + i:010X}"


def writer(baud: int, reads: int, gap: float) -> None:
    """Child process: make the pty, tell the parent its path, wait for "go", play the frames."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    print(os.ttyname(slave), flush=True)
    sys.stdin.readline()
    byte_time = 10 / baud
    starts: list[float] = []
    ends: list[float] = []
    lags: list[float] = []
    next_start = time.perf_counter() + 0.05
    for i in range(reads):
        frame = encode_frame(card_hex(i))
        for j in range(FRAME_BYTES):
            due = next_start + (j + 1) * byte_time
            while (left := due - time.perf_counter()) > 0:
                if left > 0.0003:
                    time.sleep(left - 0.0002)  # sleep most of the wait, spin the rest
            os.write(master, frame[j : j + 1])
            if j == 0:
                starts.append(time.perf_counter() - byte_time)  # when the start bit began
        ends.append(time.perf_counter())
        lags.append(ends[-1] - (next_start + FRAME_BYTES * byte_time))
        next_start = max(next_start + FRAME_BYTES * byte_time + gap, time.perf_counter())
    time.sleep(0.5)  # let the last reads arrive before the pty goes away
    print(json.dumps({"starts": starts, "ends": ends, "lags": lags}), flush=True)
    sys.stdin.readline()
    os.close(master)
    os.close(slave)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(baud: int, reads: int, gap: float) -> dict[str, object]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--writer", str(baud), "--reads", str(reads), "--gap-ms", str(gap * 1000)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    path = child.stdout.readline().strip()
    delivered: dict[str, float] = {}
    connected = threading.Event()

    def sink(event: ReaderEvent) -> None:
        if isinstance(event, CardRead):
            delivered[event.uid] = time.perf_counter()
        elif event.connected:
            connected.set()

    reader = SerialFrameReader(path, baud, reader_id="bench", debounce=0)
    reader.start(sink)
    if not connected.wait(5):
        raise SystemExit(f"reader did not open {path}")
    child.stdin.write("go\n")
    child.stdin.flush()
    report = json.loads(child.stdout.readline())
    child.stdin.write("done\n")
    child.stdin.flush()
    child.wait(10)
    reader.stop()

    floor = FRAME_BYTES * 10 / baud * 1000
    # From the frame's first byte to delivery. When the writer fell behind its schedule inside a
    # frame (it is a user-space process too), the frame took longer than the floor on the "wire";
    # that delay is the rig's, so overhead is measured from the last byte's actual write and the
    # latency is floor + overhead. The writer's lag and the uncorrected figure are reported too.
    overheads, raw = [], []
    for i, (start, end) in enumerate(zip(report["starts"], report["ends"], strict=True)):
        at = delivered.get(f"EM:{card_hex(i)}")
        if at is not None:
            overheads.append((at - end) * 1000)
            raw.append((at - start) * 1000)
    latencies = [floor + o for o in overheads]
    p99 = percentile(latencies, 99)
    return {
        "baud": baud,
        "reads": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(p99, 3),
        "floor_ms": round(floor, 3),
        "overhead_p99_ms": round(p99 - floor, 3),
        "overhead_max_ms": round(max(overheads), 3),
        "lost": reads - len(latencies),
        "bad_frames": reader.stats.bad_frames,
        "writer_lag_p99_ms": round(percentile([lag * 1000 for lag in report["lags"]], 99), 3),
        "uncorrected_p99_ms": round(percentile(raw, 99), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--baud", type=int, action="append")
    parser.add_argument("--gap-ms", type=float, default=1.0, help="idle line between frames")
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args.writer, args.reads, args.gap_ms / 1000)
        return
    for baud in args.baud or [9600, 115200]:
        print(json.dumps(run(baud, args.reads, args.gap_ms / 1000)), flush=True)


if __name__ == "__main__":
    main()
