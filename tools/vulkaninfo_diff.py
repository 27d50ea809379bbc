#!/usr/bin/env python3
"""Native vs guest `vulkaninfo`: what a guest loses through PearVisor.

Runs vulkaninfo on the host's Vulkan driver and through PearVisor (pv-vtest
with Mesa's venus guest driver, scripts/run-with-pv-vtest.sh), compares the
first GPU of each (API version, device extensions, features, limits and the
core properties) and writes a Markdown report. Each extension the guest
lacks is classified:
  - "renderer: not in protocol": the venus protocol the decoder carries
    (src/venus/pvk_capset.c's table) has no such extension;
  - "renderer: withheld": in the protocol, but the renderer does not offer
    it (pvk_instance.c's list: host fds, dma-bufs);
  - "guest driver: not in its protocol": the guest driver's venus protocol
    (--guest-protocol, its vn_protocol_driver_info.h) lacks it;
  - "guest driver: WSI": swapchain and friends, which Mesa's venus
    implements itself and offers only with dma-buf memory;
  - "guest driver: hidden": carried end to end, but the guest driver does
    not expose it (its own choice, e.g. extensions it implements itself).

usage: vulkaninfo_diff.py [--build DIR] [--venus-icd JSON] [--host-icd JSON]
           [--guest-protocol DIR] [--pv-vtest-args ARGS] [--label TEXT]
           [--keep DIR] [--out FILE]
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_vulkaninfo(cmd, env):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    if p.returncode != 0 or 'GPU0:' not in p.stdout:
        sys.stderr.write(p.stderr[-4000:])
        sys.exit('vulkaninfo failed: ' + ' '.join(cmd))
    return p.stdout


def parse(text):
    """First GPU of a vulkaninfo text report: {section: {key: value}}, extensions."""
    gpu = text.split('GPU0:', 1)[1]
    gpu = re.split(r'^GPU1:$', gpu, flags=re.M)[0]
    sections, exts = {}, {}
    current = None
    for line in gpu.split('\n'):
        m = re.match(r'^Device Extensions: count = \d+', line)
        if m:
            current = '#extensions'
            continue
        m = re.match(r'^(\w[\w ]*?):\s*(count = \d+)?$', line)
        if m:
            current = m.group(1)
            sections.setdefault(current, {})
            continue
        if not line.strip():
            if current == '#extensions':
                current = None
            continue
        if current == '#extensions':
            m = re.match(r'^\t(VK_\w+)\s*: extension revision (\d+)', line)
            if m:
                exts[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r'^\t(\w+)\s*= (.*)$', line)
        if m and current:
            sections[current][m.group(1)] = m.group(2).strip()
    return sections, exts


def table_names(path, pattern):
    try:
        return set(re.findall(pattern, open(path).read()))
    except OSError:
        return None


# Window-system extensions: the guest driver implements them on its side,
# and Mesa's venus offers them only with dma-buf memory (withheld here).
WSI = {'VK_KHR_swapchain', 'VK_KHR_incremental_present', 'VK_KHR_swapchain_mutable_format',
       'VK_EXT_swapchain_maintenance1', 'VK_KHR_present_id', 'VK_KHR_present_wait'}


def classify(ext, protocol, withheld, guest_protocol):
    if ext in WSI:
        return 'guest driver: WSI (needs dma-buf export)'
    if protocol is not None and ext not in protocol:
        return 'renderer: not in protocol'
    if ext in withheld:
        return 'renderer: withheld'
    if guest_protocol is not None and ext not in guest_protocol:
        return 'guest driver: not in its protocol'
    return 'guest driver: hidden'


def version(props):
    return props.get('VkPhysicalDeviceProperties', {}).get('apiVersion', '?').split()[0]


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--venus-icd', default=os.path.join(
        ROOT, '.cache/venus-icd/install/share/vulkan/icd.d/virtio_icd.x86_64.json'))
    ap.add_argument('--host-icd', default='',
                    help='VK_ICD_FILENAMES for the host (native run and pv-vtest)')
    ap.add_argument('--guest-protocol', default=os.path.join(
        ROOT, '.cache/venus-icd/src/src/virtio/venus-protocol'))
    ap.add_argument('--pv-vtest-args', default='', help='PV_VTEST_ARGS for pv-vtest')
    ap.add_argument('--label', default='', help='what the guest driver is, for the title')
    ap.add_argument('--keep', default='', help='also write both vulkaninfo outputs here')
    ap.add_argument('--out', default='-')
    a = ap.parse_args()

    env = dict(os.environ)
    env.pop('VK_INSTANCE_LAYERS', None)
    if a.host_icd:
        env['VK_ICD_FILENAMES'] = a.host_icd
    native_txt = run_vulkaninfo(['vulkaninfo'], env)
    genv = dict(env)
    if a.pv_vtest_args:
        genv['PV_VTEST_ARGS'] = a.pv_vtest_args
    guest_txt = run_vulkaninfo([os.path.join(ROOT, 'scripts/run-with-pv-vtest.sh'), '--icd',
                                a.venus_icd, a.build, '--', 'vulkaninfo'], genv)
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        open(os.path.join(a.keep, 'native.txt'), 'w').write(native_txt)
        open(os.path.join(a.keep, 'guest.txt'), 'w').write(guest_txt)

    nat, nat_ext = parse(native_txt)
    gst, gst_ext = parse(guest_txt)
    protocol = table_names(os.path.join(ROOT, 'src/venus/pvk_capset.c'), r'\{ "(VK_\w+)", \d+, \d+ \}')
    withheld = set(re.findall(r'"(VK_\w+)"', re.search(
        r'pvk_unsupported_exts\[\] = \{(.*?)\};',
        open(os.path.join(ROOT, 'src/venus/pvk_instance.c')).read(), re.S).group(1)))
    guest_protocol = table_names(os.path.join(a.guest_protocol, 'vn_protocol_driver_info.h'),
                                 r'\{ "(VK_\w+)", \d+, \d+ \}')

    out = []
    w = out.append
    np_, gp = nat.get('VkPhysicalDeviceProperties', {}), gst.get('VkPhysicalDeviceProperties', {})
    gd = gst.get('VkPhysicalDeviceDriverProperties', {})
    w('## %s' % (a.label or 'Guest: ' + gd.get('driverInfo', '?')))
    w('')
    w('| | native | guest |')
    w('|---|---|---|')
    w('| device | %s | %s |' % (np_.get('deviceName', '?'), gp.get('deviceName', '?')))
    w('| driver | %s | %s |' % (nat.get('VkPhysicalDeviceDriverProperties', {}).get('driverInfo', '?'),
                               gd.get('driverInfo', '?')))
    w('| apiVersion | %s | %s |' % (version(nat), version(gst)))
    w('| device extensions | %d | %d |' % (len(nat_ext), len(gst_ext)))
    feat_n = sum(v == 'true' for s, d in nat.items() if 'Features' in s for v in d.values())
    feat_g = sum(v == 'true' for s, d in gst.items() if 'Features' in s for v in d.values())
    w('| features true (all feature structs) | %d | %d |' % (feat_n, feat_g))
    w('')

    missing = sorted(set(nat_ext) - set(gst_ext))
    w('### Device extensions the guest lacks (%d)' % len(missing))
    w('')
    if missing:
        w('| extension | why |')
        w('|---|---|')
        for e in missing:
            w('| %s | %s |' % (e, classify(e, protocol, withheld, guest_protocol)))
    else:
        w('None.')
    w('')
    extra = sorted(set(gst_ext) - set(nat_ext))
    w('### Device extensions only the guest has (%d)' % len(extra))
    w('')
    w(', '.join(extra) if extra else 'None.')
    w('')
    older = sorted(e for e in set(nat_ext) & set(gst_ext) if gst_ext[e] < nat_ext[e])
    if older:
        w('Lower spec versions in the guest: ' +
          ', '.join('%s %d < %d' % (e, gst_ext[e], nat_ext[e]) for e in older))
        w('')

    w('### Features true natively, not in the guest')
    w('')
    rows = []
    for s in sorted(nat):
        if 'Features' not in s:
            continue
        for k, v in sorted(nat[s].items()):
            if v == 'true' and gst.get(s, {}).get(k) != 'true':
                rows.append('| %s | %s | %s |' % (s, k, 'struct absent' if s not in gst
                                                 else gst[s].get(k, 'absent')))
    if rows:
        w('| struct | feature | guest |')
        w('|---|---|---|')
        out.extend(rows)
    else:
        w('None.')
    w('')

    w('### Limits and core properties that differ')
    w('')
    rows = []
    for s in ('VkPhysicalDeviceLimits', 'VkPhysicalDeviceVulkan11Properties',
              'VkPhysicalDeviceVulkan12Properties', 'VkPhysicalDeviceVulkan13Properties'):
        for k in sorted(nat.get(s, {})):
            n, g = nat[s][k], gst.get(s, {}).get(k, 'absent')
            if n != g and not re.search(r'UUID|LUID|driverID|driverName|driverInfo|conformance', k):
                rows.append('| %s | %s | %s | %s |' % (s, k, n, g))
    if rows:
        w('| struct | member | native | guest |')
        w('|---|---|---|---|')
        out.extend(rows)
    else:
        w('None.')
    w('')

    text = '\n'.join(out) + '\n'
    if a.out == '-':
        sys.stdout.write(text)
    else:
        open(a.out, 'w').write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
