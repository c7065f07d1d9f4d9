"""This computer's CPU, from ``/proc/cpuinfo``: its vector instructions, which decide whether bfloat16 pays and how
fast the convolutions run (an AMD EPYC with AVX-512 computed them 2.7 times as fast as one with AVX2 only,
docs/adaptation.md), and its name for the reports that quote seconds. Empty answers where the file is missing (not
Linux)."""

import os
from pathlib import Path

CPUINFO = "/proc/cpuinfo"


def _cpuinfo_lines(cpuinfo: str | Path) -> list[str]:
    try:
        return Path(cpuinfo).read_text().splitlines()
    except OSError:
        return []


def cpu_flags(cpuinfo: str | Path = CPUINFO) -> set[str]:
    """The instruction-set flags the kernel lists (``avx2``, ``avx512f``, ``amx_bf16``, …)."""
    return {flag for line in _cpuinfo_lines(cpuinfo) if line.startswith("flags")
            for flag in line.split(":", 1)[-1].split()}


def cpu_model(cpuinfo: str | Path = CPUINFO) -> str:
    """The CPU's model name, e.g. "AMD EPYC"; "unknown CPU" where none is given."""
    return next((line.split(":", 1)[1].strip() for line in _cpuinfo_lines(cpuinfo) if line.startswith("model name")),
                "unknown CPU")


def cpu_description(cpuinfo: str | Path = CPUINFO) -> str:
    """The cores this process may use, the model, and whether it has AVX-512: "2-core AMD EPYC without AVX-512"."""
    vector = "with AVX-512" if "avx512f" in cpu_flags(cpuinfo) else "without AVX-512"
    return f"{len(os.sched_getaffinity(0))}-core {cpu_model(cpuinfo)} {vector}"
