#!/usr/bin/python3
"""Instructions per vkCmd* command from a callgrind profile of the renderer:
all of it, the host driver's part (calls into the Vulkan driver and loader
made from inside the command) and PearVisor's own (the rest: decode,
lookups, firewall, dispatch).

    valgrind --tool=callgrind --toggle-collect='vn_dispatch_command*' \\
        --callgrind-out-file=cg.out build/fuzz/replay/pv-fuzz-replay --replay S.pvcap
    bench/micro/callgrind_per_command.py cg.out [MIN_CALLS]

(a session captured with PV_CAPTURE_DIR, fuzz/README.md). Per command, not
counted: the dispatch loop's own header read and table call (about 20
instructions; bench/micro/callgrind_stream_share.py counts them).
"""
import os
import re
import subprocess
import sys

HEAD = re.compile(r'\s*([\d,]+) \([^)]*\)\s+\*\s+(\S+)')
CALLEE = re.compile(r'\s*([\d,]+) \([^)]*\)\s+>\s+(\S+) \(([\d,]+)x\) \[(\S+)\]')


def num(s):
    return int(s.replace(',', ''))


def parse(path):
    # from /: callgrind_annotate shortens names under the working directory
    # and then leaves out some callees' objects
    # --threshold=100: every function, not only those making up 99% of the total
    out = subprocess.run(['callgrind_annotate', '--tree=calling', '--inclusive=yes', '--threshold=100',
                          os.path.abspath(path)], capture_output=True, text=True, check=True,
                         cwd='/').stdout
    blocks, cur = {}, None
    for line in out.splitlines():
        m = HEAD.match(line)
        if m:
            fn = m.group(2).split(':')[-1]
            # a function inlined elsewhere comes again under its header's name
            cur = fn if fn not in blocks else None
            if cur:
                blocks[cur] = {'incl': num(m.group(1)), 'callees': []}
            continue
        m = CALLEE.match(line)
        if m and cur:
            blocks[cur]['callees'].append((m.group(2).split(':')[-1], num(m.group(1)),
                                           num(m.group(3)), m.group(4)))
    return blocks


def driver_part(blocks, fn, seen=()):
    """Instructions of fn spent in the Vulkan driver or loader."""
    if fn not in blocks or fn in seen:
        return 0
    total = 0
    for callee, ir, _, obj in blocks[fn]['callees']:
        if 'libvulkan' in obj:
            total += ir
        elif 'libc.so' not in obj and 'ld-linux' not in obj:
            total += driver_part(blocks, callee, seen + (fn,))
    return total


def main():
    blocks = parse(sys.argv[1])
    min_calls = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    # commands run one by one (vn_dispatch_command) or in runs (vn_dispatch_commands)
    calls = {}
    for loop in ('vn_dispatch_command', 'vn_dispatch_commands'):
        for c, _, n, _ in blocks.get(loop, {'callees': []})['callees']:
            calls[c] = calls.get(c, 0) + n
    print('%-28s %8s %10s %10s %10s' % ('command', 'calls', 'Ir/command', 'driver', 'PearVisor'))
    rows = [(fn, n) for fn, n in calls.items()
            if fn.startswith('vn_run_vkCmd') and n >= min_calls and fn in blocks]
    for fn, n in sorted(rows, key=lambda r: -blocks[r[0]]['incl']):
        incl = blocks[fn]['incl']
        drv = driver_part(blocks, fn)
        print('%-28s %8d %10.0f %10.0f %10.0f' % (fn[len('vn_run_'):], n, incl / n, drv / n,
                                                  (incl - drv) / n))


if __name__ == '__main__':
    main()
