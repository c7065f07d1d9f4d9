"""How much memory the app's server holds at the start, over several starts, and where (docs/classroom.md).

Each run starts the server as the load test does (``classroom_load.server``: ``MALLOC_ARENA_MAX=2`` unless set),
opens Try it out once with a light client, waits until the memory is steady (the server's own warm-up of a live
reading done), then prints the server's Pss, its thread count and the Pss of its largest kinds of mapping, and
writes its ``/proc/PID/smaps`` to ``--out``/smaps_<run>.txt. Environment variables pass through to the server, e.g.

    LIPNET_DATA_DIR=../shared/grid python scripts/start_memory.py --runs 4 --out /tmp/start-memory
    MALLOC_MMAP_THRESHOLD_=131072 LIPNET_DATA_DIR=../shared/grid python scripts/start_memory.py --runs 4 --out /tmp/m2
"""

import argparse
import asyncio
import collections
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classroom_load.light_client import LightSession  # noqa: E402
from classroom_load.server import (  # noqa: E402
    MemorySampler,
    free_port,
    mib,
    start_server,
    stop_server,
    wait_for_health,
)

MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def pss_by_mapping(smaps: str) -> collections.Counter:
    """Pss in bytes by mapping: a file's name, or [anon], [heap], [stack]…"""
    totals, name = collections.Counter(), None
    for line in smaps.splitlines():
        if MAPPING.match(line):
            fields = line.split()
            name = Path(fields[5]).name if len(fields) > 5 else "[anon]"
        elif line.startswith("Pss:"):
            totals[name] += int(line.split()[1]) * 1024
    return totals


async def one_start(run: int, data_dir: str, out: Path, log) -> None:
    port = free_port()
    server = start_server(port, data_dir, log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base_url, server)
        sampler = MemorySampler(server.pid)
        client = LightSession(base_url, "try_it_out")
        await client.open()
        await client.wait_for_text_containing(" frames at 25 fps", 300)
        await client.wait_until_finished(300)
        await client.close()
        page_shown = sampler.now()
        steady = await sampler.settled()
        smaps = Path(f"/proc/{server.pid}/smaps").read_text()
        (out / f"smaps_{run}.txt").write_text(smaps)
        threads = len(os.listdir(f"/proc/{server.pid}/task"))
        largest = ", ".join(f"{name} {mib(size)}" for name, size in pss_by_mapping(smaps).most_common(6))
        print(f"start {run}: page shown {mib(page_shown)}, steady {mib(steady)}, {threads} threads; {largest}",
              flush=True)
    finally:
        stop_server(server)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--data-dir", default=os.environ.get("LIPNET_DATA_DIR", "../shared/grid"))
    parser.add_argument("--out", required=True, help="a folder for the server log and each start's smaps")
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', '2 (set by the script)')}, "
          f"MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_', 'glibc default')}", flush=True)
    with open(out / "server.log", "w") as log:
        for run in range(arguments.runs):
            await one_start(run, arguments.data_dir, out, log)


if __name__ == "__main__":
    asyncio.run(main())
