#!/usr/bin/env python3
"""Prints a .pvcap session (src/venus/pvk_capture_format.h): one line per
record, and with --commands one line per command (its name and size).

  fuzz/pvcap-dump.py [--commands] FILE
"""
import os
import re
import struct
import sys

TYPES = {1: 'STREAM', 2: 'BLOB', 3: 'ATTACH', 4: 'DETACH', 5: 'UNREF', 6: 'FENCE'}


def command_names():
    src = os.path.join(os.path.dirname(__file__), '..', 'src', 'venus', 'generated',
                       'vn_command_table.c')
    with open(src) as f:
        return {int(n): s for n, s in re.findall(r'^\s+\[(\d+)\] = "(vk\w+)",', f.read(), re.M)}


def main():
    args = sys.argv[1:]
    commands = '--commands' in args
    args = [a for a in args if a != '--commands']
    if len(args) != 1:
        sys.exit(__doc__)
    names = command_names()
    data = open(args[0], 'rb').read()
    if data[:8] != b'PVCAPT01':
        sys.exit('not a capture')
    version, wire = struct.unpack_from('<II', data, 8)
    print('version %d, wire format %d' % (version, wire))
    off, i = 16, 0
    while off + 8 <= len(data):
        rtype, size = struct.unpack_from('<II', data, off)
        off += 8
        payload = data[off:off + size]
        off += (size + 3) // 4 * 4
        name = TYPES.get(rtype, '?%d' % rtype)
        if rtype == 1:
            n = struct.unpack_from('<I', payload)[0]
            offs = struct.unpack_from('<%dI' % n, payload, 4)
            body = payload[4 + 4 * n:]
            first = names.get(struct.unpack_from('<I', body, offs[0])[0], '?') if n else '-'
            print('%4d STREAM %d bytes, %d commands (first %s)' % (i, len(body), n, first))
            if commands:
                for k, o in enumerate(offs):
                    end = offs[k + 1] if k + 1 < n else len(body)
                    t = struct.unpack_from('<I', body, o)[0]
                    print('       %4d %s (%d bytes)' % (k, names.get(t, '?%d' % t), end - o))
        elif rtype in (2, 3):
            res, mem, flags, pages, blob_id, bsize = struct.unpack_from('<IIIIQQ', payload)
            print('%4d %s res %d blob_mem %d flags %#x guest_pages %d blob_id %d size %d'
                  % (i, name, res, mem, flags, pages, blob_id, bsize))
        elif rtype in (4, 5):
            print('%4d %s res %d' % (i, name, struct.unpack_from('<I', payload)[0]))
        elif rtype == 6:
            ring, _, fid = struct.unpack_from('<IIQ', payload)
            print('%4d FENCE ring %d id %d' % (i, ring, fid))
        else:
            print('%4d %s %d bytes' % (i, name, size))
        i += 1


if __name__ == '__main__':
    main()
