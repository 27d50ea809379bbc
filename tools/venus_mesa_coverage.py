#!/usr/bin/env python3
"""Checks the generated Venus decoder against what Mesa's driver can encode.

Reads Mesa's driver-side encoders (src/virtio/venus-protocol/
vn_protocol_driver_*.h of a Mesa checkout) and src/venus/generated/, and
fails when
  - a command Mesa encodes has no decoder,
  - a struct Mesa encodes (whole or partial) has no decoder,
  - a pNext chain element Mesa may encode for a struct is not accepted there,
  - the members of a struct are decoded in another order than Mesa writes them.

With --advertised (a C table of { "VK_name", number, spec } rows: the
extensions the renderer puts in the capset) and --xml (vk.xml), what Mesa
only encodes for extensions the renderer does not advertise is not checked:
newer drivers (Mesa 24+) guard every such pNext element with the capset's
extension mask, and a command of an extension that is not advertised is not
available to the guest's applications.

Mesa's names are matched to the generated ones through vk.xml's aliases
(--xml): a command or struct promoted since Mesa's vk.xml has a new name.

usage: venus_mesa_coverage.py [--vulkan-header vulkan_core.h] [--xml vk.xml]
           [--advertised FILE] MESA_PROTOCOL_DIR GENERATED_DIR
"""

import argparse
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET


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


def stype_aliases(path):
    alias = {}
    for line in open(path):
        mm = re.match(r'\s+(VK_STRUCTURE_TYPE_\w+) = (VK_STRUCTURE_TYPE_\w+),', line)
        if mm:
            alias[mm.group(1)] = mm.group(2)
    return alias


def advertised_numbers(path):
    return set(int(n) for n in re.findall(r'\{ "VK_\w+", (\d+), \d+ \}', open(path).read()))


def guard_allows(cond, adv):
    """Evaluates a Mesa encoder guard (`!vn_cs_renderer_protocol_has_...`)."""
    expr = re.sub(r'vn_cs_renderer_protocol_has_extension\((\d+)[^)]*\)',
                  lambda mo: str(int(mo.group(1)) in adv), cond)
    expr = re.sub(r'vn_cs_renderer_protocol_has_api_version\(\w+\)', 'True', expr)
    expr = expr.replace('&&', ' and ').replace('||', ' or ').replace('!', ' not ')
    if re.search(r'[^\w\s()]', expr):
        sys.exit('cannot read guard: ' + cond)
    return not eval(expr)  # the guard says when to skip


def drop_unadvertised_cases(txt, adv):
    """Removes from pNext encoders the cases guarded by extensions not in adv."""
    def fix_case(mo):
        return '' if not guard_allows(mo.group(2), adv) else mo.group(0)
    return re.sub(r'(        case VK_STRUCTURE_TYPE_\w+:\n            if \((.*?)\)\n                break;\n'
                  r'.*?)(?=        case |        default:)', fix_case, txt, flags=re.S)


def unadvertised_commands(xml_path, adv):
    """Commands that only extensions outside adv (or Vulkan > 1.3) bring."""
    root = ET.parse(xml_path).getroot()
    alias = {c.get('name'): c.get('alias') for c in root.find('commands').findall('command')
             if c.get('alias')}
    wanted, other = set(), set()
    for f in root.findall('feature'):
        if 'vulkan' not in (f.get('api') or 'vulkan').split(','):
            continue
        into = wanted if float(f.get('number')) <= 1.3 else other
        for c in f.iter('command'):
            into.add(c.get('name'))
    for e in root.find('extensions').findall('extension'):
        into = wanted if int(e.get('number')) in adv else other
        for c in e.iter('command'):
            into.add(c.get('name'))
    res = set()
    for c in other:
        canon = alias.get(c, c)
        if c not in wanted and canon not in wanted:
            res.add(c)
    return res


def name_aliases(xml_path):
    """Type and command aliases of vk.xml: Mesa's names may be older ones."""
    alias = {}
    if xml_path:
        root = ET.parse(xml_path).getroot()
        for e in list(root.find('types')) + list(root.find('commands')):
            if e.get('alias') and e.get('name'):
                alias[e.get('name')] = e.get('alias')
    return alias


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument('--vulkan-header', default='/usr/include/vulkan/vulkan_core.h')
    ap.add_argument('--advertised')
    ap.add_argument('--xml')
    ap.add_argument('mesa_dir')
    ap.add_argument('gen_dir')
    a = ap.parse_args()
    if a.advertised and not a.xml:
        sys.exit('--advertised needs --xml')
    mesa_dir, gen_dir = a.mesa_dir, a.gen_dir
    mesa_txt = ''.join(open(f).read() for f in sorted(glob.glob(
        os.path.join(mesa_dir, 'vn_protocol_driver_*.h'))))
    if not mesa_txt:
        sys.exit('no Mesa protocol headers in ' + mesa_dir)
    name_alias = name_aliases(a.xml)

    def cn(n):
        """Generated (canonical) name of a Mesa struct/command name, suffixes kept.
        Venus' experimental names lost their 100000 on the way to Mesa 25
        (same wire numbers): both sides are compared without it."""
        base, suffix = re.match(r'(\w+?)((?:_self|_pnext|_partial)*)$', n).groups()
        for _ in range(8):
            base = name_alias.get(base, base)
        return base.replace('100000', '') + suffix
    skipped_cmds = set()
    if a.advertised:
        adv = advertised_numbers(a.advertised)
        mesa_txt = drop_unadvertised_cases(mesa_txt, adv)
        skipped_cmds = unadvertised_commands(a.xml, adv)
    dec_txt = open(os.path.join(gen_dir, 'vn_decode_structs.c')).read()
    internal = open(os.path.join(gen_dir, 'vn_protocol_internal.h')).read()
    execs = open(os.path.join(gen_dir, 'vn_command_table.c')).read()
    problems = []

    # commands
    mesa_cmds = set(re.findall(r'static inline void vn_encode_(vk\w+)\(struct vn_cs_encoder', mesa_txt))
    mesa_cmds -= skipped_cmds
    gen_cmds = set(c.replace('100000', '') for c in re.findall(r'= vn_run_(vk\w+),', execs))
    for c in sorted(c for c in mesa_cmds if cn(c) not in gen_cmds):
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
    gen_full = set(n.replace('100000', '') for n in
                   re.findall(r'void vn_decode_(Vk\w+?)\(struct', internal))
    gen_part = set(n.replace('100000', '') for n in
                   re.findall(r'void vn_decode_(Vk\w+?)_partial\(struct', internal))
    for f in sorted(reached):
        name = f[len('vn_encode_'):]
        if name.endswith('_partial') and not name.endswith('_self_partial') \
                and not name.endswith('_pnext_partial'):
            base = name[:-len('_partial')]
            if base in structs and cn(base) not in gen_part:
                problems.append('output struct without partial decoder: ' + base)
        elif name in structs and cn(name) not in gen_full:
            problems.append('struct without decoder: ' + name)

    # pNext chains; structs venus_protocol.txt denies on purpose are skipped
    alias = stype_aliases(a.vulkan_header)
    denied = set()
    facts = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'venus_protocol.txt')
    for line in open(facts):
        f = line.split('#')[0].split()
        if len(f) == 2 and f[0] == 'deny':
            denied.add('VK_STRUCTURE_TYPE_' + re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', f[1][2:]).upper())

    def canon(s):
        while s in alias:
            s = alias[s]
        return s.replace('_100000_', '_')
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
            gen_chains[m.group(1).replace('100000', '') + (m.group(2) or '')] = \
                tables.get(used.group(1), set()) if used else set()
    # chains of structs no command reaches (only through pNext elements the
    # guards above dropped) are not checked
    reached_chains = set(re.sub(r'^vn_encode_', '', f).replace('_pnext', '')
                         for f in reached if '_pnext' in f)
    for name, cases in sorted(mesa_chains.items()):
        if name not in reached_chains:
            continue
        if cn(name) not in gen_chains:
            problems.append('no chain decoder for ' + name)
            continue
        for c in cases:
            if canon(c) not in gen_chains[cn(name)] and c not in denied:
                problems.append('%s: chain element %s not accepted' % (name, c))

    # member order
    mesa_bodies = collect(mesa_txt, r'^vn_encode_(Vk\w+?)(?:_self)?\(struct vn_cs_encoder \*enc, const Vk\w+ \*val\)\n\{(.*?)^\}',
                          lambda n, b: '_self(enc' in b or 'pnext' in b or n.endswith('_partial') or '_tag' in b)
    gen_bodies = collect(dec_txt.replace('100000', ''), r'^vn_decode_(Vk\w+?)(?:_self)?\(struct vn_cs_decoder \*dec, Vk\w+ \*val\)\n\{(.*?)^\}',
                         lambda n, b: n.endswith('_partial') or 'vn_decode_pnext' in b or '_self(dec' in b)
    compared = 0
    for name in sorted(mesa_bodies):
        gen = gen_bodies.get(cn(name))
        if gen and 'switch' not in gen:
            compared += 1
            a, b = member_order(mesa_bodies[name]), member_order(gen)
            if a != b:
                problems.append('%s: members %s, decoder %s' % (name, a, b))

    for p in problems:
        print(p)
    print('%d commands (%d of unadvertised extensions left out), %d structs compared, '
          '%d chains: %d problems' % (len(mesa_cmds), len(skipped_cmds & set(re.findall(
              r'static inline void vn_encode_(vk\w+)\(struct vn_cs_encoder', mesa_txt))),
              compared, len(mesa_chains), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
