#!/usr/bin/env python3
"""Checks the generated Venus decoder against what Mesa's driver can encode.

Reads Mesa's driver-side encoders (src/virtio/venus-protocol/
vn_protocol_driver_*.h of a Mesa checkout) and src/venus/generated/, and
fails when
  - a command Mesa encodes has no decoder,
  - a struct Mesa encodes (whole or partial) has no decoder,
  - a pNext chain element Mesa may encode for a struct is not accepted there,
  - the members of a struct are decoded in another order than Mesa writes them.

usage: venus_mesa_coverage.py MESA_PROTOCOL_DIR GENERATED_DIR
"""

import glob
import os
import re
import sys


def collect(txt, pattern, skip):
    res = {}
    for m in re.finditer(pattern, txt, re.S | re.M):
        if not skip(m.group(1), m.group(2)):
            res[m.group(1)] = m.group(2)
    return res


def member_order(body):
    seen = []
    for mm in re.finditer(r'val->(\w+)', body):
        if mm.group(1) not in seen and mm.group(1) not in ('sType', 'pNext'):
            seen.append(mm.group(1))
    return seen


def stype_aliases():
    alias = {}
    for path in ('/usr/include/vulkan/vulkan_core.h',):
        if os.path.exists(path):
            for line in open(path):
                mm = re.match(r'\s+(VK_STRUCTURE_TYPE_\w+) = (VK_STRUCTURE_TYPE_\w+),', line)
                if mm:
                    alias[mm.group(1)] = mm.group(2)
    return alias


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mesa_dir, gen_dir = sys.argv[1:]
    mesa_txt = ''.join(open(f).read() for f in sorted(glob.glob(
        os.path.join(mesa_dir, 'vn_protocol_driver_*.h'))))
    if not mesa_txt:
        sys.exit('no Mesa protocol headers in ' + mesa_dir)
    dec_txt = open(os.path.join(gen_dir, 'vn_decode_structs.c')).read()
    internal = open(os.path.join(gen_dir, 'vn_protocol_internal.h')).read()
    execs = open(os.path.join(gen_dir, 'vn_executors.c')).read()
    problems = []

    # commands
    mesa_cmds = set(re.findall(r'static inline void vn_encode_(vk\w+)\(struct vn_cs_encoder', mesa_txt))
    gen_cmds = set(re.findall(r'= vn_run_(vk\w+),', execs))
    for c in sorted(mesa_cmds - gen_cmds):
        problems.append('command without decoder: ' + c)

    # structs reachable from command encoders, whole and partial
    funcs = {}
    for m in re.finditer(r'^(?:static inline \w+ )?(vn_encode_\w+)\((.*?)\)\n\{(.*?)^\}', mesa_txt, re.S | re.M):
        funcs[m.group(1)] = m.group(3)
    todo = ['vn_encode_' + c for c in mesa_cmds]
    reached = set()
    while todo:
        f = todo.pop()
        if f in reached or f not in funcs:
            continue
        reached.add(f)
        todo += re.findall(r'(vn_encode_Vk\w+)\(enc', funcs[f])
    structs = set(re.findall(r'/\* (?:struct|union) (Vk\w+)', mesa_txt))
    gen_full = set(re.findall(r'void vn_decode_(Vk\w+?)\(struct', internal))
    gen_part = set(re.findall(r'void vn_decode_(Vk\w+?)_partial\(struct', internal))
    for f in sorted(reached):
        name = f[len('vn_encode_'):]
        if name.endswith('_partial') and not name.endswith('_self_partial') \
                and not name.endswith('_pnext_partial'):
            base = name[:-len('_partial')]
            if base in structs and base not in gen_part:
                problems.append('output struct without partial decoder: ' + base)
        elif name in structs and name not in gen_full:
            problems.append('struct without decoder: ' + name)

    # pNext chains; structs venus_protocol.txt denies on purpose are skipped
    alias = stype_aliases()
    denied = set()
    facts = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'venus_protocol.txt')
    for line in open(facts):
        f = line.split('#')[0].split()
        if len(f) == 2 and f[0] == 'deny':
            denied.add('VK_STRUCTURE_TYPE_' + re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', f[1][2:]).upper())

    def canon(s):
        while s in alias:
            s = alias[s]
        return s
    mesa_chains = {}
    for m in re.finditer(r'^vn_encode_(Vk\w+?)_pnext(_partial)?\(struct vn_cs_encoder \*enc, const void \*val\)\n\{(.*?)^\}',
                         mesa_txt, re.S | re.M):
        mesa_chains[m.group(1) + (m.group(2) or '')] = re.findall(r'case (VK_STRUCTURE_TYPE_\w+):', m.group(3))
    # The sTypes each struct's chain accepts live in file-scope tables
    # (vn_chain_<struct>) that its full and partial decoders share.
    tables = {}
    for m in re.finditer(r'^static const VkStructureType vn_chain_(Vk\w+)\[\] = \{(.*?)^\};',
                         dec_txt, re.S | re.M):
        tables[m.group(1)] = set(canon(s) for s in re.findall(r'(VK_STRUCTURE_TYPE_\w+),', m.group(2)))
    gen_chains = {}
    for m in re.finditer(r'^vn_decode_(Vk\w+?)(_partial)?\(struct vn_cs_decoder \*dec, \w+ \*val\)\n\{(.*?)^\}',
                         dec_txt, re.S | re.M):
        if 'vn_decode_pnext' in m.group(3):
            used = re.search(r'vn_chain_(Vk\w+)', m.group(3))
            gen_chains[m.group(1) + (m.group(2) or '')] = tables.get(used.group(1), set()) if used else set()
    for name, cases in sorted(mesa_chains.items()):
        if name not in gen_chains:
            problems.append('no chain decoder for ' + name)
            continue
        for c in cases:
            if canon(c) not in gen_chains[name] and c not in denied:
                problems.append('%s: chain element %s not accepted' % (name, c))

    # member order
    mesa_bodies = collect(mesa_txt, r'^vn_encode_(Vk\w+?)(?:_self)?\(struct vn_cs_encoder \*enc, const Vk\w+ \*val\)\n\{(.*?)^\}',
                          lambda n, b: '_self(enc' in b or 'pnext' in b or n.endswith('_partial') or '_tag' in b)
    gen_bodies = collect(dec_txt, r'^vn_decode_(Vk\w+?)(?:_self)?\(struct vn_cs_decoder \*dec, Vk\w+ \*val\)\n\{(.*?)^\}',
                         lambda n, b: n.endswith('_partial') or 'vn_decode_pnext' in b or '_self(dec' in b)
    compared = 0
    for name in sorted(mesa_bodies):
        if name in gen_bodies and 'switch' not in gen_bodies[name]:
            compared += 1
            a, b = member_order(mesa_bodies[name]), member_order(gen_bodies[name])
            if a != b:
                problems.append('%s: members %s, decoder %s' % (name, a, b))

    for p in problems:
        print(p)
    print('%d commands, %d structs compared, %d chains: %d problems' % (
        len(mesa_cmds), compared, len(mesa_chains), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
