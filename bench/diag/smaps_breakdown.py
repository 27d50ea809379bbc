#!/usr/bin/python3
"""Private memory (Private_Clean + Private_Dirty of /proc/PID/smaps) of one
process, by kind of mapping: what a process's USS consists of.

    bench/diag/smaps_breakdown.py PID [PID...]      one table per process
    bench/diag/smaps_breakdown.py --mappings PID     also every mapping

Kinds: [heap] (the main malloc arena), malloc arenas of other threads
(anonymous mappings at a 64 MiB boundary with the arena's PROT_NONE
reservation after them), thread stacks (found from each thread's stack
pointer in /proc/PID/task/TID/syscall: needs ptrace rights, e.g. root),
the main stack, memfd / shm / device mappings, other anonymous memory, and
files (code and data of libraries: private when this process alone maps them,
or when written: relocations). Read-only: attach nothing, stop nothing.
"""
import os
import sys

ARENA_ALIGN = 64 << 20


def read_smaps(pid):
    maps = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(None, 5)
            if "-" in head[0] and ":" not in head[0]:
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                cur = {
                    "lo": lo,
                    "hi": hi,
                    "perms": head[1],
                    "name": head[5].strip() if len(head) > 5 else "",
                    "priv": 0,
                    "rss": 0,
                }
                maps.append(cur)
            elif head[0] in ("Private_Clean:", "Private_Dirty:"):
                cur["priv"] += int(head[1])
            elif head[0] == "Rss:":
                cur["rss"] += int(head[1])
    return maps


def thread_stack_pointers(pid):
    """{tid: (comm, sp)} for threads whose stack pointer can be read."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
        except OSError:
            continue
        # "nr a1..a6 sp pc", or "-1 sp pc" / "running"
        if len(fields) >= 3 and fields[0] != "running":
            out[int(tid)] = (comm, int(fields[-2], 16))
    return out


def classify(pid, maps):
    sps = thread_stack_pointers(pid)
    for i, m in enumerate(maps):
        name, perms = m["name"], m["perms"]
        nxt = maps[i + 1] if i + 1 < len(maps) else None
        owners = [c for tid, (c, sp) in sps.items() if m["lo"] <= sp < m["hi"] and tid != pid]
        if name == "[heap]":
            kind = "malloc: main arena ([heap])"
        elif name == "[stack]":
            kind = "stack: main thread"
        elif owners:
            kind = "stack: thread " + ",".join(sorted(set(owners)))
        elif name.startswith("/memfd:"):
            kind = "memfd " + name.split()[0][len("/memfd:"):]
        elif name.startswith("/dev/shm") or name.startswith("/SYSV"):
            kind = "shm " + name
        elif name.startswith("/dev/"):
            kind = "device " + name
        elif name.startswith("["):
            kind = name
        elif name:
            kind = "file " + os.path.basename(name)
        elif (m["lo"] % ARENA_ALIGN == 0 and nxt and nxt["lo"] == m["hi"]
              and nxt["perms"].startswith("---") and not nxt["name"]
              and (nxt["hi"] - m["lo"]) <= ARENA_ALIGN):
            kind = "malloc: thread arenas"
        elif (m["lo"] % ARENA_ALIGN == 0 and (m["hi"] - m["lo"]) == ARENA_ALIGN
              and perms.startswith("rw")):
            kind = "malloc: thread arenas"
        elif perms.startswith("---"):
            kind = "anon: PROT_NONE (guards, reservations)"
        elif "s" in perms[3]:
            kind = "anon: shared"
        else:
            kind = "anon: other (mmap'ed malloc blocks, driver allocations, unlabelled stacks)"
        m["kind"] = kind
    return sps


def group(maps):
    totals = {}
    for m in maps:
        k = m["kind"]
        if k.startswith("file "):
            # libraries: one line each is too much; keep the big ones
            k = k if m["priv"] >= 512 else "file: other libraries"
        t = totals.setdefault(k, [0, 0, 0])
        t[0] += m["priv"]
        t[1] += m["rss"]
        t[2] += 1
    return totals


def report(pid, show_maps):
    maps = read_smaps(pid)
    sps = classify(pid, maps)
    with open(f"/proc/{pid}/comm") as f:
        comm = f.read().strip()
    totals = group(maps)
    total = sum(t[0] for t in totals.values())
    print(f"## pid {pid} ({comm}): private {total} KiB = {total / 1024:.1f} MiB, "
          f"{len(os.listdir(f'/proc/{pid}/task'))} threads "
          f"({', '.join(sorted(c for c, _ in sps.values()))})")
    print()
    print("| kind | private KiB | RSS KiB | mappings |")
    print("|---|---|---|---|")
    for k, t in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        if t[0] or t[1]:
            print(f"| {k} | {t[0]} | {t[1]} | {t[2]} |")
    print()
    if show_maps:
        for m in maps:
            if m["priv"]:
                print(f"    {m['lo']:x}-{m['hi']:x} {m['perms']} {m['priv']:7d} KiB "
                      f"{m['kind']} {m['name']}")
        print()


def main(argv):
    show = "--mappings" in argv
    pids = [int(a) for a in argv if a != "--mappings"]
    if not pids:
        print(__doc__)
        return 2
    for pid in pids:
        report(pid, show)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
