#!/usr/bin/env python3
"""PearVisor's instructions per recorded command (vkCmd*) in a callgrind
profile of a session replay, the host driver's own recording left out.

Profile with the collection on inside the renderer's stream loop:

  valgrind --tool=callgrind --toggle-collect=execute_stream \
      --callgrind-out-file=OUT build/fuzz/replay/pv-fuzz-replay --replay FILE.pvcap
  bench/micro/callgrind_stream_share.py OUT

What it computes, from the call edges callgrind records (inclusive Ir):
- collected: every instruction run inside the stream loop;
- minus the commands that are not vkCmd* (edges from vn_dispatch_command(s)
  into vn_run_<name>, name not vkCmd*: instance/device/pipeline creation,
  submits, fence polls);
- minus the host driver's share of the vkCmd* commands: calls from the
  renderer's object into the driver's objects (--driver, default any
  object whose path has "libvulkan": lavapipe and the loader) made from
  the renderer's object by functions whose name has "vkCmd" (the
  handlers, or the run functions they are inlined into);
- divided by the number of vkCmd* commands: --commands (count them in the
  capture with fuzz/pvcap-dump.py --commands); without it, the calls into
  vn_run_vkCmd*, which undercounts commands a vn_repeat_* loop decoded.
What is left per command is PearVisor's: the stream loop (its share for
the other commands too, a few instructions each), the decoder,
object lookups, the firewall, and the libc calls they make.
"""
import argparse
import re
import sys


def parse(path):
    """Yields (ob, fn, cob, cfn, calls, inclusive) for call edges and
    (ob, fn, None, None, 0, self) for self cost lines."""
    names = {}

    def name(kind, text):
        m = re.match(r'\((\d+)\)(?: (.*))?$', text)
        if not m:
            return text
        table = names.setdefault(kind, {})
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table[m.group(1)]

    ob = fn = ''
    cob = cfn = None
    calls = None
    with open(path) as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in '+-*':
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if calls is not None:
                    yield ob, fn, cob if cob is not None else ob, cfn, calls, cost
                    calls = None
                    cob = cfn = None
                else:
                    yield ob, fn, None, None, 0, cost
            elif line.startswith('ob='):
                ob = name('ob', line[3:].strip())
            elif line.startswith('fn='):
                fn = name('fn', line[3:].strip())
            elif line.startswith('cob='):
                cob = name('ob', line[4:].strip())
            elif line.startswith('cfn='):
                cfn = name('fn', line[4:].strip())
            elif line.startswith(('fl=', 'fi=', 'fe=')):
                name('fl', line[3:].strip())
            elif line.startswith(('cfi=', 'cfl=')):
                name('fl', line[4:].strip())
            elif line.startswith('calls='):
                calls = int(line[6:].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--driver', default=r'libvulkan', help='regex on the driver objects')
    ap.add_argument('--commands', type=int, default=0, help='vkCmd* commands in the capture')
    ap.add_argument('--min-calls', type=int, default=900, help='per-type rows with this many calls')
    ap.add_argument('file')
    a = ap.parse_args()
    driver = re.compile(a.driver)

    total = 0
    other_cmds = 0            # inclusive Ir of non-vkCmd commands
    other_fns = set()         # their run functions
    cmd_calls = 0
    per_cmd = {}              # vkCmd* name -> [calls, inclusive Ir]
    driver_edges = {}         # (caller ob, fn) -> inclusive Ir into the driver
    renderer = None           # the object vn_dispatch_command(s) is in
    for ob, fn, cob, cfn, calls, cost in parse(a.file):
        if fn.startswith('vn_dispatch_command'):
            renderer = ob
        if cfn is None:
            total += cost
            continue
        if fn.startswith('vn_dispatch_command') and cfn.startswith('vn_run_'):
            if cfn.startswith('vn_run_vkCmd'):
                cmd_calls += calls
                c = per_cmd.setdefault(cfn[len('vn_run_'):], [0, 0])
                c[0] += calls
                c[1] += cost
            else:
                other_cmds += cost
                other_fns.add(cfn)
        if driver.search(cob):
            driver_edges[ob, fn] = driver_edges.get((ob, fn), 0) + cost

    # the host calls of vkCmd* commands are made by their handlers (or the
    # run functions they are inlined into); those of other commands are
    # inside the commands' inclusive cost, subtracted already
    cmd_driver = {fn: c for (ob, fn), c in driver_edges.items()
                  if ob == renderer and 'vkCmd' in fn}
    to_driver = sum(cmd_driver.values())
    ours = total - other_cmds - to_driver
    n = a.commands or cmd_calls
    print('collected Ir:                          %12d' % total)
    print('non-vkCmd commands (%3d kinds):        %12d' % (len(other_fns), other_cmds))
    print('host driver, called by:                %12d' % to_driver)
    for fn, c in sorted(cmd_driver.items(), key=lambda x: -x[1])[:12]:
        print('    %-34s %12d' % (fn[:34], c))
    print('PearVisor (vkCmd* commands):           %12d' % ours)
    print('vkCmd* commands: %d%s' % (n, '' if a.commands else ' (runs entered from vn_dispatch_command)'))
    if n:
        print('per vkCmd* command: PearVisor %.1f Ir, host driver %.1f Ir' % (ours / n, to_driver / n))
    # per command type: its run function's calls from the dispatch loop
    # (a vn_repeat_* run counts as one call) less its handler's driver calls
    print()
    print('%-28s %8s %12s %12s' % ('run function', 'calls', 'Ir/call', 'PearVisor'))
    for name, (calls, incl) in sorted(per_cmd.items(), key=lambda x: -x[1][1]):
        if calls < a.min_calls:
            continue
        drv = sum(c for fn, c in cmd_driver.items()
                  if re.sub(r'^vn_(handle|run|repeat)_', '', fn) == name)
        print('%-28s %8d %12.0f %12.0f' % (name, calls, incl / calls, (incl - drv) / calls))


if __name__ == '__main__':
    sys.exit(main())
