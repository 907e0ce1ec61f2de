"""`make bench`: every benchmark on SQLite and on PostgreSQL, then their figures side by side.

Runs bench/ivr.py, bench/dispatch.py, bench/api.py, bench/staffing.py and bench/figures.py once per backend
(each as its own process, one after the other, so they never compete for the machine), shows their output
as they go, and ends with
one table: a row per figure, a column per backend, and the goal. PostgreSQL is the server of
TEST_DATABASE_URL, which `make bench` starts privately through scripts/with-postgres.sh as `make test`
does; without it the PostgreSQL column says so and the run goes on with SQLite.

Run: scripts/with-postgres.sh .venv/bin/python bench/all.py [--only ivr,dispatch,api,staffing,figures] [--quick]
(--quick: fewer rounds, 100,000 instead of 1,000,000 waiting, 50,000 instead of 200,000 calls made and a quieter
week of figures, to try the harness, not to quote)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BACKENDS, ROOT, head_commit  # noqa: E402

SCRIPTS = {
    "ivr": ["bench/ivr.py"],
    "dispatch": ["bench/dispatch.py"],
    "api": ["bench/api.py"],
    "staffing": ["bench/staffing.py"],
    "figures": ["bench/figures.py"],
}
QUICK = {
    "ivr": ["--requests", "60", "--warmup", "16"],
    "dispatch": ["--rounds", "8", "--big", "100000", "--calls", "15"],
    "api": ["--requests", "300"],
    "staffing": ["--big", "50000", "--repeats", "50", "--seconds", "1"],
    "figures": ["--per-day", "1000", "--rounds", "1"],
}

Fmt = Callable[[dict[str, float]], str]


def ms(key: str) -> Fmt:
    return lambda f: f"{f[key]:.1f} ms" if key in f else "-"


def pair(median: str, p99: str) -> Fmt:
    return lambda f: f"{f[median]:.1f} / {f[p99]:.1f} ms" if median in f and p99 in f else "-"


def ratios(kind: str, callers: int) -> Fmt:
    def show(f: dict[str, float]) -> str:
        base = f"ivr.{callers}.{kind}"
        if f"{base}.ratio_median" not in f:
            return "-"
        return (
            f"{f[base + '.ratio_median']:.2f}x / {f[base + '.ratio_p99']:.2f}x "
            f"({f[base + '.median_ms']:.1f} / {f[base + '.p99_ms']:.1f} ms)"
        )

    return show


def staffing_ms(size: str) -> Fmt:
    keys = [f"staffing.{size}.{name}_ms" for name in ("orders", "espanol", "devices")]
    return lambda f: " / ".join(f"{f[k]:.2f}" for k in keys) + " ms" if all(k in f for k in keys) else "-"


def staffing_ratio(suffix: str = "") -> Fmt:
    keys = [f"staffing.ratio.{name}{suffix}" for name in ("orders", "espanol", "devices")]
    return lambda f: " / ".join(f"{f[k]:.2f}x" for k in keys) if all(k in f for k in keys) else "-"


def rows(big: str, calls: str = "200,000") -> list[tuple[str, Fmt, str]]:
    """(figure, how to show it from a backend's figures, goal)."""
    table: list[tuple[str, Fmt, str]] = []
    for callers in (1, 10, 50):
        who = "1 caller" if callers == 1 else f"{callers} callers"
        table.append((f"IVR bare endpoint, {who}: median / p99", pair(*bare(callers)), "yardstick"))
        table.append(
            (
                f"IVR one read (signature, one order read) vs bare, {who}: median / p99",
                ratios("one-read", callers),
                "the floor",
            )
        )
        table.append(
            (
                f"IVR /voice/incoming vs bare, {who}: median / p99",
                ratios("incoming", callers),
                "<= 1.5x median (PostgreSQL)",
            )
        )
        table.append(
            (
                f"IVR order lookup vs bare, {who}: median / p99",
                ratios("lookup", callers),
                "<= 1.5x median (PostgreSQL)",
            )
        )
    table += [
        (
            "agent free -> calls.create, scheduler in the web process: median / p99",
            pair("dispatch.inproc.median_ms", "dispatch.inproc.p99_ms"),
            "",
        ),
        (
            "agent free -> calls.create, 1 scheduler process: median / p99",
            pair("dispatch.1proc.median_ms", "dispatch.1proc.p99_ms"),
            "<= 50 ms median (PostgreSQL)",
        ),
        (
            "agent free -> calls.create, 4 scheduler processes: median / p99",
            pair("dispatch.4proc.median_ms", "dispatch.4proc.p99_ms"),
            "<= 50 ms median (PostgreSQL)",
        ),
        ("claim, 1,000 waiting", ms("claim.small_ms"), ""),
        (f"claim, {big} waiting", ms("claim.big_ms"), ""),
        (
            f"claim ratio {big} / 1,000",
            lambda f: f"{f['claim.ratio']:.2f}" if "claim.ratio" in f else "-",
            "about 1",
        ),
        (
            "pacing with a backlog, TWILIO_CPS=5",
            lambda f: f"{f['pacing.cps']:.2f}/s ({f['pacing.share']:.1%})" if "pacing.cps" in f else "-",
            "95% to 100%",
        ),
        (
            "POST /api/callbacks, 4 workers: accepted/s",
            lambda f: f"{f['api.rate']:.0f}/s ({f.get('api.refused', 0):.0f} refused)" if "api.rate" in f else "-",
            "",
        ),
        ("POST /api/callbacks, 4 workers: median / p99", pair("api.median_ms", "api.p99_ms"), ""),
        ("staffing() (every quote), 2,000 calls: busy / rare / dormant queue", staffing_ms("small"), ""),
        (f"staffing() (every quote), {calls} calls: busy / rare / dormant queue", staffing_ms("big"), ""),
        (f"staffing() ratio {calls} / 2,000 calls: busy / rare / dormant queue", staffing_ratio(), "about 1x"),
        (
            f"the handle-time query before 0021, ratio {calls} / 2,000 calls: busy / rare / dormant",
            staffing_ratio(".former"),
            "for reference",
        ),
        ("figures of yesterday, every queue and all", figures_time("day"), ""),
        ("figures of the last 7 days, every queue and all", figures_time("week"), "a few seconds"),
    ]
    return table


def figures_time(period: str) -> Fmt:
    def show(f: dict[str, float]) -> str:
        if f"figures.{period}_ms" not in f:
            return "-"
        return f"{f[f'figures.{period}_ms']:.0f} ms ({f[f'figures.{period}.requests']:,.0f} requests)"

    return show


def bare(callers: int) -> tuple[str, str]:
    return f"ivr.{callers}.bare.median_ms", f"ivr.{callers}.bare.p99_ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SCRIPTS), help="comma-separated: ivr,dispatch,api,staffing,figures")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chosen = [name for name in args.only.split(",") if name]
    backends = [b for b in BACKENDS if b == "sqlite" or os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")]
    commit = head_commit()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    print(f"make bench: commit {commit}{' (with uncommitted changes)' if dirty else ''}; {machine}", flush=True)
    figures: dict[str, dict[str, float]] = {b: {} for b in backends}
    failed: list[str] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callme-bench-") as tmp:
        for name in chosen:
            for backend in backends:
                out = Path(tmp) / f"{name}-{backend}.json"
                command = [sys.executable, *SCRIPTS[name], "--database", backend, "--json", str(out)]
                command += QUICK[name] if args.quick else []
                print(f"\n=== {name} on {backend} ===", flush=True)
                started = time.monotonic()
                child = subprocess.Popen(command, cwd=ROOT)
                try:
                    returncode = child.wait()
                except BaseException:  # TERM or Ctrl-C: let the benchmark stop its own servers first
                    child.terminate()
                    child.wait(timeout=60)
                    raise
                print(f"({time.monotonic() - started:.0f} s)", flush=True)
                if returncode != 0 or not out.exists():
                    failed.append(f"{name} on {backend} (exit {returncode})")
                    continue
                figures[backend].update(json.loads(out.read_text()))

    big, calls = ("100,000", "50,000") if args.quick else ("1,000,000", "200,000")
    header = ["figure", *backends, "goal"]
    lines = [[label, *(show(figures[b]) for b in backends), goal] for label, show, goal in rows(big, calls)]
    lines = [line for line in lines if any(cell != "-" for cell in line[1:-1])]
    print(f"\n=== side by side ({time.monotonic() - began:.0f} s in all; load average {os.getloadavg()[0]:.2f}) ===")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in lines:
        print("| " + " | ".join(line) + " |")
    if "postgresql" not in backends:
        print(
            "\nPostgreSQL: no server (TEST_DATABASE_URL unset); run under scripts/with-postgres.sh, as make bench does"
        )
    if failed:
        print("\nFAILED: " + ", ".join(failed))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
