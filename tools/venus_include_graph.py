#!/usr/bin/env python3
"""Checks src/venus's include graph: no include cycles among its headers,
generated code includes only the dispatch interface and protocol headers,
and no header includes the context header.

  venus_include_graph.py SRC_DIR     (SRC_DIR: the tree's src/)
  venus_include_graph.py SRC_DIR --print   also prints the header graph
"""
import glob
import os
import re
import sys

# What generated code may include besides its own headers (docs/venus-renderer.md).
GENERATED_MAY_INCLUDE = {'venus/vn_dispatch.h', 'venus/vn_cs.h', 'venus/vn_object.h',
                         'venus/vn_protocol_support.h'}
CONTEXT_HEADER = re.compile(r'^venus/(vn|pvk)_context\.h$')


def includes(path):
    with open(path) as f:
        return [m for m in re.findall(r'^#include "([^"]+)"', f.read(), re.M)
                if m.startswith('venus/')]


def main():
    src = sys.argv[1]
    files = sorted(glob.glob(os.path.join(src, 'venus', '*.[ch]')) +
                   glob.glob(os.path.join(src, 'venus', 'generated', '*.[ch]')))
    graph = {os.path.relpath(f, src): includes(f) for f in files}
    errors = []
    for name, incs in graph.items():
        if name.startswith('venus/generated/'):
            for inc in incs:
                if not inc.startswith('venus/generated/') and inc not in GENERATED_MAY_INCLUDE:
                    errors.append('%s includes %s (generated code: only %s)' %
                                  (name, inc, ', '.join(sorted(GENERATED_MAY_INCLUDE))))
        if name.endswith('.h'):
            for inc in incs:
                if CONTEXT_HEADER.match(inc):
                    errors.append('%s includes the context header %s' % (name, inc))
    headers = {n: i for n, i in graph.items() if n.endswith('.h')}
    state = {}

    def visit(node, path):
        state[node] = 1
        for nxt in headers.get(node, []):
            if state.get(nxt) == 1:
                errors.append('include cycle: ' + ' -> '.join(path + [node, nxt]))
            elif not state.get(nxt):
                visit(nxt, path + [node])
        state[node] = 2

    for node in headers:
        if not state.get(node):
            visit(node, [])
    if '--print' in sys.argv:
        for node, incs in sorted(headers.items()):
            print('%-36s -> %s' % (node, ', '.join(incs) or '(none)'))
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
