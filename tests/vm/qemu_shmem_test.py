#!/usr/bin/env python3
"""QEMU shared-memory test: PearVisor's patched QEMU (vmm/qemu/) maps and
unmaps back-end memory in vhost-user-gpu's hostmem region, and refuses bad
requests without crashing.

A Debian guest boots under QEMU with pv-vhost-user-gpu as its GPU and
`hostmem=` set. Between QEMU and the back-end sits a small vhost-user proxy
that forwards everything, but adds VHOST_USER_PROTOCOL_F_BACKEND_REQ and
VHOST_USER_PROTOCOL_F_SHMEM to the back-end's protocol features and keeps
the back-end channel QEMU hands over; the test sends its own
VHOST_USER_BACKEND_SHMEM_MAP/UNMAP requests on it. So only QEMU is under
test here; the back-end's own use of the requests is tested elsewhere.

Checked:
- the guest's virtio_gpu reports +resource_blob +host_visible +context_init
  and the host memory window has the hostmem size;
- a memfd mapped read-write at an offset of the region reads back in the
  guest (busybox devmem) with the host's bytes, and a guest write reaches
  the memfd;
- refused, each with a non-zero reply and QEMU still answering: zero
  length, unaligned offsets/length, a range past the region, past the end
  of the fd, an overlap, an unknown shmid, bad flags, no fd, a short
  payload, an unmap that matches no mapping, a double unmap;
- after an unmap the guest no longer sees the memory; a read-only mapping
  ignores guest writes;
- 1000 random requests from boundary values (fixed seed) are each answered
  as the contract says (accepted exactly when valid, checked against a
  model of the mappings), whatever they map is unmapped again;
- with --mmio-src (tests/vm/guest/pv_mmio_loop.c, built static here): a
  guest program reading the local APIC's version register through /dev/mem
  without pause reads the same value every time while the back-end maps
  and unmaps memory 300 times (the TCG bug vmm/qemu/0007 fixes: after a
  map change, reads through the CPU's older TLB entries reached other
  devices; a lost APIC EOI wedged guests of the vm_vulkan tests);
- closing the back-end channel removes every mapping;
- QEMU exits cleanly (the guest powers off).

Exit status 77 when the kernel or the patched QEMU is missing (with
--qemu-script: when `scripts/build-qemu.sh --check` says the cached build
is missing or out of date; `make qemu` builds it).
"""
import argparse
import array
import mmap
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

SKIP = 77

# vhost-user numbers (docs/interop/vhost-user.rst)
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
SET_BACKEND_REQ_FD = 21
F_BACKEND_REQ = 5
F_SHMEM = 20
FLAG_VERSION = 0x1
FLAG_REPLY = 0x4
FLAG_NEED_REPLY = 0x8
BACKEND_SHMEM_MAP = 9
BACKEND_SHMEM_UNMAP = 10
MAP_R = 1
MAP_W = 2
HDR = struct.Struct("<III")
MMAP = struct.Struct("<B7xQQQQ")  # shmid, fd_offset, shm_offset, len, flags
PAGE = 4096
HOSTMEM = 64 << 20


def recv_exact(sock, n, want_fds=False):
    """Reads n bytes; with want_fds, also the fds sent with the first byte."""
    data, fds = b"", []
    while len(data) < n:
        if want_fds and not data:
            chunk, got, _, _ = socket.recv_fds(sock, n, 16)
            fds += got
        else:
            chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data, fds


def recv_msg(sock):
    hdr, fds = recv_exact(sock, HDR.size, want_fds=True)
    req, flags, size = HDR.unpack(hdr)
    payload = recv_exact(sock, size)[0] if size else b""
    return req, flags, payload, fds


def send_msg(sock, req, flags, payload, fds=()):
    data = HDR.pack(req, flags, len(payload)) + payload
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


class Proxy(threading.Thread):
    """Forwards vhost-user between QEMU and the back-end, adding the
    back-end channel and SHMEM protocol features on the way."""

    def __init__(self, listen_path, backend_path):
        super().__init__(daemon=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(listen_path)
        self.srv.listen(1)
        self.backend_path = backend_path
        self.channel = None
        self.channel_ready = threading.Event()
        self.negotiated = 0
        self.error = None

    def run(self):
        try:
            self.serve()
        except EOFError:
            pass
        except Exception as e:  # reported by the main thread
            self.error = e

    def serve(self):
        qemu, _ = self.srv.accept()
        be = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        be.connect(self.backend_path)
        added = 1 << F_BACKEND_REQ | 1 << F_SHMEM
        while True:
            ready, _, _ = select.select([qemu, be], [], [])
            if qemu in ready:
                req, flags, payload, fds = recv_msg(qemu)
                if req == SET_BACKEND_REQ_FD:
                    # The back-end does not know the channel: keep it.
                    self.channel = socket.socket(fileno=fds[0])
                    self.channel_ready.set()
                    if flags & FLAG_NEED_REPLY:  # REPLY_ACK: answer for the back-end
                        send_msg(qemu, req, FLAG_VERSION | FLAG_REPLY, struct.pack("<Q", 0))
                    continue
                if req == SET_PROTOCOL_FEATURES:
                    (f,) = struct.unpack("<Q", payload)
                    self.negotiated = f
                    payload = struct.pack("<Q", f & ~added)
                send_msg(be, req, flags, payload, fds)
                for fd in fds:
                    os.close(fd)
            if be in ready:
                req, flags, payload, fds = recv_msg(be)
                if req == GET_PROTOCOL_FEATURES and flags & FLAG_REPLY:
                    (f,) = struct.unpack("<Q", payload)
                    payload = struct.pack("<Q", f | added)
                send_msg(qemu, req, flags, payload, fds)
                for fd in fds:
                    os.close(fd)


def shmem_request(chan, req, shmid, fd_offset, shm_offset, length, flags,
                  fd=None, payload=None):
    """Sends a SHMEM request with NEED_REPLY; returns the u64 reply."""
    if payload is None:
        payload = MMAP.pack(shmid, fd_offset, shm_offset, length, flags)
    send_msg(chan, req, FLAG_VERSION | FLAG_NEED_REPLY, payload,
             [fd] if fd is not None else ())
    chan.settimeout(30)
    rreq, rflags, rpayload, _ = recv_msg(chan)
    chan.settimeout(None)
    if rreq != req or not rflags & FLAG_REPLY or len(rpayload) != 8:
        raise RuntimeError(f"bad reply {rreq} {rflags:#x} {rpayload!r}")
    return struct.unpack("<Q", rpayload)[0]


class Guest:
    """The serial console of the test initramfs (tests/vm/mkinitramfs.py)."""

    def __init__(self, proc, log):
        self.proc, self.log, self.buf = proc, log, b""
        os.set_blocking(proc.stdout.fileno(), False)

    def expect(self, pattern, timeout=120):
        rx = re.compile(pattern.encode())
        end = time.time() + timeout
        while time.time() < end:
            m = rx.search(self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out.decode(errors="replace"), m
            if self.proc.poll() is not None and not self.read(0):
                raise RuntimeError(f"QEMU exited ({self.proc.returncode}) waiting for {pattern!r}")
            self.read(0.2)
        raise RuntimeError(f"timeout waiting for {pattern!r}")

    def read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        data = self.proc.stdout.read() or b""
        self.log.write(data)
        self.log.flush()
        self.buf += data
        return bool(data)

    def run(self, cmd, timeout=60):
        """Runs a shell command; returns its output."""
        tag = f"PVEND{time.monotonic_ns()}"
        self.proc.stdin.write(f"{cmd}; echo {tag[:2]}''{tag[2:]}\n".encode())
        self.proc.stdin.flush()
        out, _ = self.expect(tag + r"\r?\n", timeout)
        out = out[:out.rfind(tag)]
        # keep what follows the (possibly redrawn) echo of the command
        marker = tag[:2] + "''" + tag[2:]
        return out[out.rfind(marker) + len(marker):].lstrip("\r\n")

    def read32(self, addr):
        out = self.run(f"devmem {addr:#x} 32")
        m = re.search(r"^0x([0-9A-Fa-f]+)\r?$", out, re.M)
        if not m:
            raise RuntimeError(f"devmem {addr:#x}: {out!r}")
        return int(m.group(1), 16)


def add_guest_program(initrd, src, cc, workdir):
    """initrd plus src built static as /NAME (NAME: src's base name), as a
    second cpio archive appended to it; returns the new initrd's path."""
    name = os.path.splitext(os.path.basename(src))[0]
    extra = os.path.join(workdir, "guest-bin")
    shutil.rmtree(extra, ignore_errors=True)
    os.makedirs(extra)
    subprocess.run([cc, "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                    os.path.join(extra, name), src], check=True)
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=extra,
                          input=name.encode() + b"\n", stdout=subprocess.PIPE,
                          check=True).stdout
    combined = os.path.join(workdir, "initrd-" + name + ".cpio")
    with open(combined, "wb") as out, open(initrd, "rb") as base:
        out.write(base.read())
        out.write(cpio)
    return combined


LAPIC_VERSION = 0xfee00030  # a constant MMIO register every x86 guest has


def check_mmio_during_map_changes(guest, chan, fd, seconds=25, pairs=300):
    """pv_mmio_loop reads the local APIC's version register while the
    back-end maps and unmaps a page `pairs` times: every read must return
    the same value (vmm/qemu/0007)."""
    guest.run(f"/pv_mmio_loop {LAPIC_VERSION:#x} {seconds} > /tmp/mmio.out 2>&1 & true")
    time.sleep(2)  # the program is reading
    t0 = time.time()
    for i in range(pairs):
        so = (64 + i % 8) * PAGE
        if shmem_request(chan, BACKEND_SHMEM_MAP, 1, 0, so, PAGE, MAP_R | MAP_W, fd) != 0 or \
                shmem_request(chan, BACKEND_SHMEM_UNMAP, 1, 0, so, PAGE, 0) != 0:
            check(False, f"map/unmap pair {i} at {so:#x} accepted")
    spent = time.time() - t0
    out = guest.run("wait; cat /tmp/mmio.out", timeout=seconds + 120)
    m = re.search(r"PV_MMIO reads (\d+) bad (\d+) want (0x[0-9a-f]+) first_bad (0x[0-9a-f]+)",
                  out)
    check(m is not None, f"pv_mmio_loop reported: {out.strip()!r}")
    reads, bad = int(m.group(1)), int(m.group(2))
    check(spent < seconds - 2, f"{pairs} map/unmap pairs in {spent:.1f} s, while the guest read")
    check(bad == 0, f"{reads} reads of the local APIC version register during {2 * pairs} map "
          f"changes all returned {m.group(3)} ({bad} did not, the first {m.group(4)})")


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        raise AssertionError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu", help="qemu-system-x86_64 with vmm/qemu's patches")
    ap.add_argument("--qemu-script", help="scripts/build-qemu.sh: use its cached build")
    ap.add_argument("--backend", required=True)
    ap.add_argument("--mkinitramfs", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--kernel")
    ap.add_argument("--mmio-src", help="tests/vm/guest/pv_mmio_loop.c: also check MMIO reads "
                    "during map changes")
    ap.add_argument("--cc", default=os.environ.get("CC_FOR_GUEST", "cc"))
    ap.add_argument("--device-opts", default="",
                    help="extra vhost-user-gpu-pci options, e.g. indirect_desc=off")
    a = ap.parse_args()

    if a.qemu_script:
        r = subprocess.run([a.qemu_script, "--check"], stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            print("skip: PearVisor's QEMU is not built or out of date (make qemu)")
            return SKIP
        a.qemu = r.stdout.strip()
    kernel = a.kernel or next((os.path.join("/boot", k) for k in sorted(os.listdir("/boot"))
                              if k.startswith("vmlinuz-")), None)
    if not kernel or not a.qemu or not os.access(a.qemu, os.X_OK):
        print(f"skip: kernel {kernel} / QEMU {a.qemu} missing")
        return SKIP
    os.makedirs(a.workdir, exist_ok=True)
    initrd = os.path.join(a.workdir, "initrd.cpio")
    subprocess.run([sys.executable, a.mkinitramfs, "--kernel", kernel, "--out", initrd],
                   check=True, stdout=subprocess.DEVNULL)
    if a.mmio_src:
        initrd = add_guest_program(initrd, a.mmio_src, a.cc, a.workdir)
    be_sock = os.path.join(a.workdir, "backend.sock")
    px_sock = os.path.join(a.workdir, "proxy.sock")
    for p in (be_sock, px_sock):
        if os.path.exists(p):
            os.unlink(p)

    be_log = open(os.path.join(a.workdir, "backend.log"), "wb")
    backend = subprocess.Popen([a.backend, "--socket-path", be_sock],
                               stdout=be_log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists(be_sock):
            break
        time.sleep(0.05)
    proxy = Proxy(px_sock, be_sock)
    proxy.start()

    qemu_err = open(os.path.join(a.workdir, "qemu.stderr"), "wb")
    qemu = subprocess.Popen(
        [a.qemu, "-L", "/usr/share/seabios", "-L", "/usr/share/qemu",
         "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512M",
         "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
         "-machine", "pc,memory-backend=mem",
         "-chardev", f"socket,id=gpu,path={px_sock}",
         "-device", f"vhost-user-gpu-pci,chardev=gpu,hostmem={HOSTMEM}"
         + (f",{a.device_opts}" if a.device_opts else ""),
         "-display", "none", "-serial", "stdio", "-monitor", "none", "-nic", "none",
         "-no-reboot", "-kernel", kernel, "-initrd", initrd,
         "-append", "console=ttyS0 iomem=relaxed panic=-1 quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=qemu_err)
    guest = Guest(qemu, open(os.path.join(a.workdir, "serial.log"), "wb"))
    start = time.time()
    status = 1
    try:
        guest.expect("PV_READY", 300)
        print(f"guest ready after {time.time() - start:.1f} s", flush=True)
        guest.proc.stdin.write(b"SHELL\n")
        guest.proc.stdin.flush()
        time.sleep(1)
        dmesg = guest.run("dmesg")
        feat = " ".join(re.findall(r"features: [^\r\n]*", dmesg))
        print("guest:", feat)
        for f in ("+resource_blob", "+host_visible", "+context_init"):
            check(f in feat, f"guest virtio_gpu {f}")
        m = re.search(r"Host memory window: 0x([0-9a-f]+) \+0x([0-9a-f]+)", dmesg)
        check(m is not None, "guest found the host memory window")
        base, size = int(m.group(1), 16), int(m.group(2), 16)
        check(size == HOSTMEM, f"window size {size:#x} == hostmem")
        check(proxy.channel_ready.wait(10), "QEMU opened the back-end channel")
        check(proxy.negotiated & 1 << F_SHMEM, "QEMU acked VHOST_USER_PROTOCOL_F_SHMEM")
        chan = proxy.channel

        fd = os.memfd_create("pv-shmem-test")
        os.ftruncate(fd, 4 * PAGE)
        mem = mmap.mmap(fd, 4 * PAGE)
        mem[0:4] = struct.pack("<I", 0x50567631)
        mem[PAGE:PAGE + 4] = struct.pack("<I", 0x50567632)
        off = 16 * PAGE
        rw = MAP_R | MAP_W

        def refused(what, **kw):
            args = dict(req=BACKEND_SHMEM_MAP, shmid=1, fd_offset=0, shm_offset=off,
                        length=2 * PAGE, flags=rw, fd=fd)
            args.update(kw)
            r = shmem_request(chan, args.pop("req"), **args)
            check(r != 0, f"refused: {what} (reply {r})")

        r = shmem_request(chan, BACKEND_SHMEM_MAP, 1, PAGE, off, 2 * PAGE, rw, fd)
        check(r == 0, "map 2 pages of a memfd (fd offset 1 page) read-write")
        check(guest.read32(base + off) == 0x50567632, "guest reads the host's bytes")
        guest.run(f"devmem {base + off + PAGE + 8:#x} 32 0x12345678")
        check(struct.unpack("<I", mem[2 * PAGE + 8:2 * PAGE + 12])[0] == 0x12345678,
              "a guest write reaches the memfd")

        refused("zero length", length=0)
        refused("unaligned shm_offset", shm_offset=off + 100)
        refused("unaligned fd_offset", fd_offset=100)
        refused("unaligned length", length=PAGE + 1)
        refused("range past the region", shm_offset=HOSTMEM - PAGE)
        refused("offset past the region", shm_offset=HOSTMEM)
        refused("length wraps", shm_offset=PAGE, length=(1 << 64) - PAGE)
        refused("past the end of the fd", shm_offset=0, fd_offset=3 * PAGE)
        refused("huge fd offset", shm_offset=0, fd_offset=(1 << 64) - PAGE, length=PAGE)
        refused("overlap", shm_offset=off + PAGE)
        refused("overlap from below", shm_offset=off - PAGE)
        refused("unknown shmid", shmid=0, shm_offset=0)
        refused("unknown shmid 2", shmid=2, shm_offset=0)
        refused("flags 0", flags=0, shm_offset=0)
        refused("write-only", flags=MAP_W, shm_offset=0)
        refused("unknown flag", flags=rw | 4, shm_offset=0)
        refused("no fd", fd=None, shm_offset=0)
        refused("short payload", shm_offset=0, payload=MMAP.pack(1, 0, 0, PAGE, rw)[:32])
        refused("unmap of no mapping", req=BACKEND_SHMEM_UNMAP, fd=None, shm_offset=0)
        refused("unmap with another length", req=BACKEND_SHMEM_UNMAP, fd=None, length=PAGE)
        check(guest.read32(base + off) == 0x50567632, "the mapping survived the refusals")

        # Random requests (fixed seed) from values near every boundary:
        # QEMU answers each, maps only valid ones, and keeps running.
        rng = random.Random(10)
        # (not `off` itself: the first mapping must stay)
        shm_offs = [0, PAGE, 2 * PAGE, 3 * PAGE, 8 * PAGE, 32 * PAGE, off - PAGE, off + PAGE,
                    HOSTMEM - PAGE, HOSTMEM, 100, (1 << 63), (1 << 64) - PAGE]
        fd_offs = [0, 0, PAGE, 2 * PAGE, 3 * PAGE, 4 * PAGE, 100, (1 << 64) - PAGE]
        lens = [PAGE] * 3 + [2 * PAGE, 3 * PAGE, 4 * PAGE, 5 * PAGE, 0, 1, HOSTMEM, (1 << 63)]
        mapped, answered, good_maps, good_unmaps = [], 0, 0, 0
        for _ in range(1000):
            req = rng.choice([BACKEND_SHMEM_MAP] * 3 + [BACKEND_SHMEM_UNMAP] * 2 + [11])
            shmid = rng.choice([1] * 6 + [0, 2, 255])
            fo, so, ln = rng.choice(fd_offs), rng.choice(shm_offs), rng.choice(lens)
            if req == BACKEND_SHMEM_UNMAP and mapped and rng.random() < 0.6:
                shmid, (so, ln) = 1, rng.choice(mapped)
            fl = rng.choice([rw] * 4 + [MAP_R] * 2 + [0, MAP_W, 8, (1 << 64) - 1])
            payload = MMAP.pack(shmid, fo, so, ln, fl)
            if rng.random() < 0.1:
                payload = payload[:rng.randrange(0, len(payload))]
            nfd = rng.choice([1] * 6 + [0, 2])
            fds = [fd] * nfd
            send_msg(chan, req, FLAG_VERSION | FLAG_NEED_REPLY, payload, fds)
            chan.settimeout(30)
            rreq, rflags, rpayload, _ = recv_msg(chan)
            chan.settimeout(None)
            answered += rreq == req and len(rpayload) == 8
            r = struct.unpack("<Q", rpayload)[0]
            # The expected answer, from the contract (docs/qemu-patches.md).
            full = len(payload) == MMAP.size
            if req == BACKEND_SHMEM_MAP:
                ok = (full and shmid == 1 and nfd == 1 and fl in (MAP_R, rw) and ln > 0
                      and (fo | so | ln) % PAGE == 0 and so + ln <= HOSTMEM
                      and fo + ln <= 4 * PAGE
                      and not any(so < o + n and o < so + ln
                                  for o, n in mapped + [(off, 2 * PAGE)]))
            elif req == BACKEND_SHMEM_UNMAP:
                ok = full and shmid == 1 and (so, ln) in mapped
            else:
                ok = False
            if (r == 0) != ok:
                check(False, f"request {req} shmid {shmid} fd_offset {fo:#x} shm_offset "
                      f"{so:#x} len {ln:#x} flags {fl:#x} fds {nfd} payload {len(payload)}: "
                      f"reply {r}, expected {'0' if ok else 'non-zero'}")
            if r == 0 and req == BACKEND_SHMEM_MAP:
                mapped.append((so, ln))
                good_maps += 1
            if r == 0 and req == BACKEND_SHMEM_UNMAP:
                mapped.remove((so, ln))
                good_unmaps += 1
        check(answered == 1000, f"1000 random requests answered ({good_maps} maps and "
              f"{good_unmaps} unmaps accepted, {len(mapped)} mappings left)")
        for so, ln in mapped:
            check(shmem_request(chan, BACKEND_SHMEM_UNMAP, 1, 0, so, ln, 0) == 0,
                  f"unmap random mapping {so:#x}+{ln:#x}")
        check(guest.read32(base + off) == 0x50567632, "the first mapping survived them")
        if a.mmio_src:
            check_mmio_during_map_changes(guest, chan, fd)

        r = shmem_request(chan, BACKEND_SHMEM_UNMAP, 1, 0, off, 2 * PAGE, 0)
        check(r == 0, "unmap")
        check(guest.read32(base + off) != 0x50567632, "the guest no longer sees the memory")
        refused("double unmap", req=BACKEND_SHMEM_UNMAP, fd=None)

        r = shmem_request(chan, BACKEND_SHMEM_MAP, 1, 0, 0, PAGE, MAP_R, fd)
        check(r == 0, "map read-only at offset 0")
        check(guest.read32(base) == 0x50567631, "guest reads the read-only mapping")
        guest.run(f"devmem {base:#x} 32 0xdeadbeef")
        check(struct.unpack("<I", mem[0:4])[0] == 0x50567631, "a guest write to it is ignored")
        r = shmem_request(chan, BACKEND_SHMEM_MAP, 1, 0, HOSTMEM - PAGE, PAGE, rw, fd)
        check(r == 0, "map the region's last page")
        check(guest.read32(base + HOSTMEM - PAGE) == 0x50567631, "guest reads the last page")

        chan.close()
        time.sleep(1)
        check(guest.read32(base) != 0x50567631, "closing the channel removed the mappings")
        check(guest.read32(base + HOSTMEM - PAGE) != 0x50567631, "... all of them")
        del mem
        os.close(fd)

        guest.proc.stdin.write(b"poweroff -f\n")
        guest.proc.stdin.flush()
        rc = qemu.wait(120)
        check(rc == 0, f"QEMU exited cleanly ({rc})")
        if proxy.error:
            raise proxy.error
        status = 0
    except (AssertionError, RuntimeError, EOFError, OSError) as e:
        print(f"FAIL: {e}", flush=True)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        backend.terminate()
        backend.wait()
        qemu_err.close()
        with open(os.path.join(a.workdir, "qemu.stderr"), "rb") as f:
            err = f.read().decode(errors="replace")
        refusals = [l for l in err.splitlines() if "refused" in l]
        print(f"QEMU logged {len(refusals)} refusals, e.g.:")
        for l in refusals[:30]:
            print("  " + l)
        print(f"total {time.time() - start:.1f} s; logs in {a.workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
