"""Helpers shared by the VM tests and the VM demo: PNG reading and writing
(no imaging library needed), the host's Vulkan device name, native runs of
the tests/vk programs, and TAP output."""
import os
import re
import struct
import subprocess
import sys
import zlib

LVP_ICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"


def read_png(path):
    """Returns (width, height, bit_depth, color_type, raw scanline bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, ihdr, idat = 8, None, bytearray()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, ctype = ihdr[:4]
    return w, h, depth, ctype, zlib.decompress(bytes(idat))


def lit_bytes(raw, w, h):
    """Counts non-zero pixel bytes of an 8-bit RGB PNG's scanlines, undoing
    nothing: filtered rows of an all-black frame are all zero whatever the
    filter, so this measures ink."""
    stride = 1 + 3 * w
    return sum(1 for y in range(h) for b in raw[y * stride + 1:(y + 1) * stride] if b)


def write_png_rgba(path, w, h, rgba, scale=1):
    """Writes w x h RGBA8 pixels as a PNG, each pixel scale x scale."""
    if len(rgba) < w * h * 4:
        raise ValueError(f"{len(rgba)} bytes is less than {w}x{h} RGBA")
    rows = []
    for y in range(h):
        row = rgba[y * w * 4:(y + 1) * w * 4]
        if scale > 1:
            row = b"".join(row[x * 4:x * 4 + 4] * scale for x in range(w))
        rows += [b"\0" + row] * scale

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w * scale, h * scale, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def device_name(summary):
    """The first deviceName in `vulkaninfo --summary` output, or None."""
    m = re.search(r"deviceName\s*=\s*(.+)", summary)
    return m.group(1).strip() if m else None


def host_device_name(icd=LVP_ICD):
    env = dict(os.environ, VK_ICD_FILENAMES=icd)
    env.pop("VK_INSTANCE_LAYERS", None)
    out = subprocess.run(["vulkaninfo", "--summary"], capture_output=True, text=True, env=env,
                         timeout=120)
    return device_name(out.stdout)


def run_native(program, out_path, icd=LVP_ICD):
    """Runs a tests/vk program on the host's driver, as run-compare.sh does.
    Returns (exit status, stderr text)."""
    env = dict(os.environ, VK_ICD_FILENAMES=icd)
    env.pop("VK_INSTANCE_LAYERS", None)
    p = subprocess.run([program, out_path], capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stderr


class Tap:
    """TAP output for meson's protocol: 'tap' (one line per check)."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, passed, what, detail=""):
        self.n += 1
        if not passed:
            self.failed += 1
        print(f"{'ok' if passed else 'not ok'} {self.n} - {what}")
        for line in detail.rstrip().splitlines():
            print(f"# {line}")
        sys.stdout.flush()
        return passed

    def note(self, text):
        for line in text.rstrip().splitlines():
            print(f"# {line}")
        sys.stdout.flush()

    def skip(self, what, why):
        self.n += 1
        print(f"ok {self.n} - {what} # SKIP {why}")
        sys.stdout.flush()

    def finish(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0
