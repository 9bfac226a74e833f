#!/usr/bin/env python3
"""Peer figures for docs/benchmarks.md: the JMH workloads of bench/ done with Volatility 3's own layers.

Run with the Volatility venv's interpreter (scripts/setup-python.sh), by bench/run.sh:

  peer_vol.py --capture-dir DIR --isf FILE.json.xz --info INFO.json --out peer.json

Measured, each as in the JMH benchmark of the same name (setup excluded, 1 warm-up + N timed repetitions):
  scan.raw / scan.elf   every present byte read in 1 MiB layer.read() calls (FileLayer on a raw copy of the ELF
                        memory / Elf64Layer on memory.elf); kdump and save have no Volatility layer (n/a)
  open.elf              building FileLayer + Elf64Layer (what Volatility does to "open" an ELF core)
  walk / translate      LinuxIntel32e over the Elf64Layer: for every process (init_task.tasks, mm->pgd, ISF offsets)
                        the leaves of the user half [0, 2^47) via the layer's page-table walk (_mapping, one tuple
                        per leaf page) and one byte read per leaf; translate() latency of sampled addresses

The kernel page-table root and KASLR shift come from VMCOREINFO as `sonde info --format json` printed it (INFO.json);
structure offsets from the committed ISF, exactly like the Java benchmark.
"""
import argparse
import json
import lzma
import os
import random
import statistics
import sys
import tempfile
import time
import pathlib

from volatility3.framework import contexts, exceptions, interfaces
from volatility3.framework.layers import elf, intel, linear, physical

START_KERNEL_MAP = 0xFFFFFFFF80000000
USER_END = 1 << 47
READ = 1 << 20
SAMPLE = 4096


def log(msg):
    print(f"[peer-vol {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def clear_caches():
    """Empties Volatility's lru caches (translation-layer reads, page-table entries and tables), so that each
    repetition is one real pass; a warm repeat would serve a 256 MiB scan from the 512-entry read cache."""
    for cached in (linear.LinearlyMappedLayer.read, interfaces.layers.TranslationLayerInterface.read,
                   intel.Intel._translate_entry, intel.Intel._get_valid_table):
        cached.cache_clear()


def timed(fn, reps):
    clear_caches()
    fn()  # warm-up (the interpreter, the page cache)
    times = []
    result = None
    for _ in range(reps):
        clear_caches()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return {"mean_s": statistics.mean(times), "min_s": min(times), "max_s": max(times), "reps": reps}, result


def file_layer(ctx, name, path):
    ctx.config[f"{name}.location"] = pathlib.Path(path).absolute().as_uri()
    layer = physical.FileLayer(ctx, name, name)
    ctx.add_layer(layer)
    return layer


def elf_layer(ctx, name, base):
    ctx.config[f"{name}.base_layer"] = base
    layer = elf.Elf64Layer(ctx, name, name)
    ctx.add_layer(layer)
    return layer


def present_ranges(layer):
    out = []
    for off, size, _mo, _ms, _ln in layer.mapping(layer.minimum_address,
                                                   layer.maximum_address - layer.minimum_address + 1,
                                                   ignore_errors=True):
        if out and out[-1][1] == off:
            out[-1][1] = off + size
        else:
            out.append([off, off + size])
    return out


def scan(layer, ranges):
    total = 0
    for start, end in ranges:
        a = start
        while a < end:
            n = min(READ, end - a)
            b = layer.read(a, n)
            total += len(b)
            a += n
    return total


class Isf:
    def __init__(self, path):
        with lzma.open(path, "rt") as f:
            self.root = json.load(f)

    def symbol(self, name):
        return self.root["symbols"][name]["address"]

    def offset(self, type_name, member, depth=0):
        fields = self.root["user_types"][type_name]["fields"]
        if member in fields:
            return fields[member]["offset"]
        if depth > 8:
            return None
        for f in fields.values():
            if f.get("anonymous"):
                inner = self.offset(f["type"]["name"], member, depth + 1)
                if inner is not None:
                    return f["offset"] + inner
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture-dir", required=True)
    ap.add_argument("--isf", required=True)
    ap.add_argument("--info", required=True, help="sonde info --format json of memory.elf")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    cap = pathlib.Path(args.capture_dir)
    elf_path = cap / "memory.elf"
    res = {"capture_dir": str(cap), "volatility": None, "python": sys.version.split()[0]}
    try:
        from volatility3.framework import constants
        res["volatility"] = constants.PACKAGE_VERSION
    except (ImportError, AttributeError):
        pass
    if not elf_path.is_file():
        log(f"SKIPPED: {elf_path} is absent")
        res["skipped"] = f"{elf_path} is absent"
        pathlib.Path(args.out).write_text(json.dumps(res, indent=2))
        return

    # --- open ---------------------------------------------------------------------------------------------
    counter = [0]

    def open_elf():
        counter[0] += 1
        c = contexts.Context()
        f = file_layer(c, "f", elf_path)
        e = elf_layer(c, "e", "f")
        n = len(e._segments)
        f.destroy()
        return n

    res["open.elf"], segs = timed(open_elf, max(args.reps, 5))
    log(f"open elf: {res['open.elf']['mean_s'] * 1e3:.2f} ms ({segs} PT_LOAD segments)")

    ctx = contexts.Context()
    file_layer(ctx, "file", elf_path)
    mem = elf_layer(ctx, "elf", "file")
    ranges = present_ranges(mem)
    present = sum(e - s for s, e in ranges)

    # --- scan ---------------------------------------------------------------------------------------------
    stats, n = timed(lambda: scan(mem, ranges), args.reps)
    stats["bytes"] = n
    stats["bytes_per_s"] = n / stats["mean_s"]
    res["scan.elf"] = stats
    log(f"scan elf: {n} bytes, {stats['bytes_per_s'] / 1e9:.3f} GB/s")

    fd, raw_path = tempfile.mkstemp(prefix="sonde-bench-peer-raw-", suffix=".img")
    try:
        with os.fdopen(fd, "wb") as out:
            for s, e in ranges:
                a = s
                while a < e:
                    k = min(READ, e - a)
                    out.seek(a)
                    out.write(mem.read(a, k))
                    a += k
        raw = file_layer(ctx, "raw", raw_path)
        stats, n = timed(lambda: scan(raw, ranges), args.reps)
        stats["bytes"] = n
        stats["bytes_per_s"] = n / stats["mean_s"]
        res["scan.raw"] = stats
        log(f"scan raw: {n} bytes, {stats['bytes_per_s'] / 1e9:.3f} GB/s")
        raw.destroy()
    finally:
        os.unlink(raw_path)

    # --- translation ----------------------------------------------------------------------------------------
    info = json.loads(pathlib.Path(args.info).read_text())
    vmci = info["vmcoreinfo"]
    phys_base = int(vmci["NUMBER(phys_base)"])
    swapper = int(vmci["SYMBOL(swapper_pg_dir)"], 16)
    shift = int(vmci["KERNELOFFSET"], 16)
    dtb = swapper - START_KERNEL_MAP + phys_base
    ctx.config["kernel.memory_layer"] = "elf"
    ctx.config["kernel.page_map_offset"] = dtb
    kernel = intel.LinuxIntel32e(ctx, "kernel", "kernel")
    ctx.add_layer(kernel)

    def u64(addr):
        return int.from_bytes(kernel.read(addr, 8), "little")

    t0 = time.perf_counter()
    isf = Isf(args.isf)
    log(f"ISF loaded in {time.perf_counter() - t0:.1f} s")
    tasks = isf.offset("task_struct", "tasks")
    pid_off = isf.offset("task_struct", "pid")
    mm_off = isf.offset("task_struct", "mm")
    pgd_off = isf.offset("mm_struct", "pgd")
    head = isf.symbol("init_task") + shift + tasks
    kernel_vas = [isf.symbol("linux_banner") + shift]
    pgds = {}
    node = u64(head)
    for _ in range(100_000):
        if node == head:
            break
        task = node - tasks
        kernel_vas.append(task)
        mm = u64(task + mm_off)
        if mm:
            pid = int.from_bytes(kernel.read(task + pid_off, 4), "little")
            pgds[pid] = kernel.translate(u64(mm + pgd_off))[0]
        node = u64(node)
    spaces = []
    for pid, pgd in pgds.items():
        name = f"proc{pid}"
        ctx.config[f"{name}.memory_layer"] = "elf"
        ctx.config[f"{name}.page_map_offset"] = pgd
        layer = intel.LinuxIntel32e(ctx, name, name)
        ctx.add_layer(layer)
        spaces.append(layer)
    log(f"{len(spaces)} processes with an mm")

    def walk():
        pages = 0
        total = 0
        for layer in spaces:
            for _off, _size, mapped, _ms, lname in layer._mapping(0, USER_END, ignore_errors=True):
                pages += 1
                total += ctx.layers.read(lname, mapped, 1)[0]
        return pages

    stats, pages = timed(walk, args.reps)
    stats["processes"] = len(spaces)
    stats["leaves"] = pages
    res["walk"] = stats
    log(f"walk: {len(spaces)} processes, {pages} leaves, {stats['mean_s'] * 1e3:.1f} ms")

    # translate(): a fixed random sample of the user leaves, and kernel addresses (task structs, banner)
    rng = random.Random(42)
    sample = []
    seen = 0
    for i, layer in enumerate(spaces):
        for off, size, _m, _ms, _l in layer._mapping(0, USER_END, ignore_errors=True):
            va = off + rng.randrange(size)
            if seen < SAMPLE:
                sample.append((layer, va))
            else:
                j = rng.randrange(seen + 1)
                if j < SAMPLE:
                    sample[j] = (layer, va)
            seen += 1

    def translate_user():
        for layer, va in sample:
            layer.translate(va)
        return len(sample)

    stats, n = timed(translate_user, args.reps)
    stats["ns_per_op"] = stats["mean_s"] / n * 1e9
    res["translate.user"] = stats
    log(f"translate user: {stats['ns_per_op']:.0f} ns/op")

    def translate_kernel():
        for va in kernel_vas:
            kernel.translate(va)
        return len(kernel_vas)

    stats, n = timed(translate_kernel, args.reps)
    stats["ns_per_op"] = stats["mean_s"] / n * 1e9
    res["translate.kernel"] = stats
    log(f"translate kernel: {stats['ns_per_op']:.0f} ns/op")

    res["present_bytes"] = present
    pathlib.Path(args.out).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    try:
        main()
    except exceptions.VolatilityException as e:
        log(f"Volatility error: {e!r}")
        raise
