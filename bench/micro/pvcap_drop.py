#!/usr/bin/env python3
"""Writes a copy of a .pvcap session (src/venus/pvk_capture_format.h)
without the commands named, e.g. its queue submissions: a replay then
records every command buffer as the guest did but runs no GPU work, which
under valgrind takes longer than the firewall waits for it (the context
is lost and the replay stops early).

  bench/micro/pvcap_drop.py IN OUT vkQueueSubmit [vkQueueSubmit2 ...]
"""
import os
import re
import struct
import sys


def command_types(names):
    src = os.path.join(os.path.dirname(__file__), '..', '..', 'src', 'venus', 'generated',
                       'vn_command_table.c')
    with open(src) as f:
        table = {s: int(n) for n, s in re.findall(r'^\s+\[(\d+)\] = "(vk\w+)",', f.read(), re.M)}
    return {table[n] for n in names}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    drop = command_types(sys.argv[3:])
    data = open(sys.argv[1], 'rb').read()
    if data[:8] != b'PVCAPT01':
        sys.exit('not a capture')
    out = bytearray(data[:16])
    off, dropped = 16, 0
    while off + 8 <= len(data):
        rtype, size = struct.unpack_from('<II', data, off)
        payload = data[off + 8:off + 8 + size]
        off += 8 + (size + 3) // 4 * 4
        if rtype == 1:
            n = struct.unpack_from('<I', payload)[0]
            offs = struct.unpack_from('<%dI' % n, payload, 4)
            body = payload[4 + 4 * n:]
            kept = []
            for k, o in enumerate(offs):
                end = offs[k + 1] if k + 1 < n else len(body)
                if struct.unpack_from('<I', body, o)[0] in drop:
                    dropped += 1
                else:
                    kept.append(body[o:end])
            if not kept:
                continue
            new_offs, pos = [], 0
            for c in kept:
                new_offs.append(pos)
                pos += len(c)
            payload = struct.pack('<I%dI' % len(kept), len(kept), *new_offs) + b''.join(kept)
        out += struct.pack('<II', rtype, len(payload)) + payload
        out += b'\0' * ((4 - len(payload) % 4) % 4)
    open(sys.argv[2], 'wb').write(out)
    print('%s: %d commands dropped' % (sys.argv[2], dropped))


if __name__ == '__main__':
    main()
