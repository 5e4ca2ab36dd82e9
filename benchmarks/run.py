"""``python -m benchmarks.run``: measure jwtcookie against bare apps and the alternatives.

    python -m benchmarks.run                  # in-process, interleaved (about a minute)
    python -m benchmarks.run --serve          # uvicorn / waitress on 127.0.0.1, CPU per request
    python -m benchmarks.run --memory         # 1 million distinct tokens, resident memory
    python -m benchmarks.run --all --write benchmarks/RESULTS.md

``--write`` replaces the generated part of the file and keeps everything below the
``<!-- notes -->`` line, where the reading of the figures is written by hand.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
from importlib import metadata
from pathlib import Path

NOTES_MARKER = "<!-- notes -->"
LIBRARIES = (
    "jwtcookie",
    "PyJWT",
    "werkzeug",
    "starlette",
    "flask",
    "flask-jwt-extended",
    "uvicorn",
    "h11",
    "waitress",
)


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return "\n".join(
        [
            f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
            f"{platform.system()} {platform.release()}",
            f"- Python: {platform.python_implementation()} {platform.python_version()}",
            f"- libraries: {', '.join(versions)}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--serve", action="store_true", help="real servers, CPU time per request")
    parser.add_argument("--memory", action="store_true", help="1M distinct tokens, resident memory")
    parser.add_argument("--all", action="store_true", help="in-process, --serve and --memory")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--batch-ms", type=float, default=20, help="time per batch (default 20)")
    # 20,000: with 5,000 the 10 ms CPU tick and a noisy machine swing the ratio by +-0.2.
    parser.add_argument("--requests", type=int, default=20000, help="--serve: requests per run")
    parser.add_argument("--tokens", type=int, default=1_000_000, help="--memory: distinct tokens")
    parser.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    args = parser.parse_args(argv)
    in_process = args.all or not (args.serve or args.memory)

    sections = ["# jwtcookie benchmark results", "", machine(), ""]
    print(sections[2], flush=True)
    if in_process:
        from benchmarks import inprocess

        variants, found = inprocess.measure(args.rounds, args.batch_ms)
        table = inprocess.render(variants, found)
        print(table, flush=True)
        sections += [
            "## In-process (`python -m benchmarks.run`)",
            "",
            f"{args.rounds} interleaved rounds, about {args.batch_ms:g} ms per variant per round.",
            "",
            table,
            "",
        ]
    if args.serve or args.all:
        from benchmarks import serve

        table = serve.measure(args.requests, rounds=max(3, args.rounds // 3))
        print(table, flush=True)
        sections += ["## Real servers (`python -m benchmarks.run --serve`)", "", table, ""]
    if args.memory or args.all:
        from benchmarks import memory

        table = memory.measure(args.tokens)
        print(table, flush=True)
        sections += ["## Memory (`python -m benchmarks.run --memory`)", "", table, ""]
    if args.write is not None:
        notes = ""
        if args.write.exists():
            old = args.write.read_text()
            if NOTES_MARKER in old:
                notes = old[old.index(NOTES_MARKER) :]
        args.write.write_text("\n".join(sections) + "\n" + (notes or NOTES_MARKER + "\n"))
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
