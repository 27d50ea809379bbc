#!/usr/bin/env python3
"""Blob mapping end to end: a guest program maps HOST3D blobs through the
kernel's virtio_gpu, pv-vhost-user-gpu answers RESOURCE_MAP_BLOB with
VHOST_USER_BACKEND_SHMEM_MAP and UNMAP_BLOB with SHMEM_UNMAP, and
PearVisor's QEMU (vmm/qemu/) maps the back-end's memory into the hostmem
BAR, where the guest reads and writes it.

A transparent vhost-user proxy between QEMU and the back-end relays both
the main socket and the back-end channel, counts the SHMEM requests and
QEMU's replies, and corrupts one map request (shm_offset + 0x800, no longer
page aligned) so that a refusal by QEMU travels back through the back-end
to the guest. Checked:
- tests/vm/guest/pv_blob_map.c (built static here) in the guest: rounds 1
  and 3 map a blob of 3 pages + 100 bytes, read zeros, write and read back
  its first and last word; round 2, whose map QEMU refused, fails with an
  error in the guest (mmap: EINVAL) and nothing else;
- QEMU logged the refusal naming the check, replied non-zero to it and 0
  to the others; every successful map was unmapped when the guest closed
  the blob;
- a second run of the program afterwards maps and unmaps normally;
- QEMU exits 0.

Exit status 77 when the kernel, a C compiler or the patched QEMU is
missing (--qemu-script: `scripts/build-qemu.sh --check`).
"""
import argparse
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_shmem_test import (Guest, SKIP, check, recv_msg, send_msg,  # noqa: E402
                             FLAG_REPLY, BACKEND_SHMEM_MAP, BACKEND_SHMEM_UNMAP, MMAP)

SET_BACKEND_REQ_FD = 21
HOSTMEM = "64M"


class Proxy(threading.Thread):
    """Relays QEMU <-> back-end, including the back-end channel; corrupts
    the map request number `corrupt` (1-based)."""

    def __init__(self, listen_path, backend_path, corrupt):
        super().__init__(daemon=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(listen_path)
        self.srv.listen(1)
        self.backend_path = backend_path
        self.corrupt = corrupt
        self.maps = 0
        self.unmaps = 0
        self.replies = []          # (request, u64) from QEMU on the channel
        self.pending = []          # requests awaiting QEMU's reply
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
        q_chan = b_chan = None  # QEMU's end, our end towards the back-end
        while True:
            socks = [qemu, be] + [s for s in (q_chan, b_chan) if s]
            ready, _, _ = select.select(socks, [], [])
            if qemu in ready:
                req, flags, payload, fds = recv_msg(qemu)
                if req == SET_BACKEND_REQ_FD:
                    q_chan = socket.socket(fileno=fds[0])
                    b_chan, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                    send_msg(be, req, flags, payload, [theirs.fileno()])
                    theirs.close()
                    continue
                send_msg(be, req, flags, payload, fds)
                for fd in fds:
                    os.close(fd)
            if be in ready:
                req, flags, payload, fds = recv_msg(be)
                send_msg(qemu, req, flags, payload, fds)
                for fd in fds:
                    os.close(fd)
            if b_chan and b_chan in ready:
                req, flags, payload, fds = recv_msg(b_chan)
                if req == BACKEND_SHMEM_MAP:
                    self.maps += 1
                    if self.maps == self.corrupt:
                        shmid, fo, so, ln, fl = MMAP.unpack(payload)
                        payload = MMAP.pack(shmid, fo, so + 0x800, ln, fl)
                elif req == BACKEND_SHMEM_UNMAP:
                    self.unmaps += 1
                self.pending.append(req)
                send_msg(q_chan, req, flags, payload, fds)
                for fd in fds:
                    os.close(fd)
            if q_chan and q_chan in ready:
                req, flags, payload, fds = recv_msg(q_chan)
                if flags & FLAG_REPLY and len(payload) == 8:
                    self.replies.append((req, struct.unpack("<Q", payload)[0]))
                send_msg(b_chan, req, flags, payload, fds)


def wait_for(cond, timeout=30):
    """The guest kernel sends a closed blob's UNMAP_BLOB after the program has
    exited, and QEMU answers the back-end later still: poll for the counts
    instead of reading them at once (a loaded host made that race)."""
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline:
        time.sleep(0.1)


def build_initrd(a, kernel, workdir):
    """The test initramfs plus /pv_blob_map, as a second cpio archive."""
    initrd = os.path.join(workdir, "initrd.cpio")
    subprocess.run([sys.executable, a.mkinitramfs, "--kernel", kernel, "--out", initrd],
                   check=True, stdout=subprocess.DEVNULL)
    extra = tempfile.mkdtemp(dir=workdir)
    subprocess.run([a.cc, "-static", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-I/usr/include/libdrm", "-o", os.path.join(extra, "pv_blob_map"),
                    a.guest_src], check=True)
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=extra,
                          input=b"pv_blob_map\n", stdout=subprocess.PIPE, check=True).stdout
    shutil.rmtree(extra)
    combined = os.path.join(workdir, "initrd-blob.cpio")
    with open(combined, "wb") as out, open(initrd, "rb") as base:
        out.write(base.read())
        out.write(cpio)
    return combined


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemu")
    ap.add_argument("--qemu-script")
    ap.add_argument("--backend", required=True)
    ap.add_argument("--mkinitramfs", required=True)
    ap.add_argument("--guest-src", required=True, help="tests/vm/guest/pv_blob_map.c")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--kernel")
    ap.add_argument("--cc", default=os.environ.get("CC_FOR_GUEST", "cc"))
    a = ap.parse_args()

    if a.qemu_script:
        r = subprocess.run([a.qemu_script, "--check"], stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            print("skip: PearVisor's QEMU is not built or out of date (make qemu)")
            return SKIP
        a.qemu = r.stdout.strip()
    kernel = a.kernel or next((os.path.join("/boot", k) for k in sorted(os.listdir("/boot"))
                              if k.startswith("vmlinuz-")), None)
    if not kernel or not a.qemu or not os.access(a.qemu, os.X_OK) or not shutil.which(a.cc):
        print(f"skip: kernel {kernel} / QEMU {a.qemu} / {a.cc} missing")
        return SKIP
    os.makedirs(a.workdir, exist_ok=True)
    initrd = build_initrd(a, kernel, a.workdir)
    be_sock = os.path.join(a.workdir, "backend.sock")
    px_sock = os.path.join(a.workdir, "proxy.sock")
    for p in (be_sock, px_sock):
        if os.path.exists(p):
            os.unlink(p)

    be_log_path = os.path.join(a.workdir, "backend.log")
    backend = subprocess.Popen([a.backend, "--socket-path", be_sock, "--hostmem", HOSTMEM],
                               stdout=open(be_log_path, "wb"), stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists(be_sock):
            break
        time.sleep(0.05)
    proxy = Proxy(px_sock, be_sock, corrupt=2)
    proxy.start()

    err_path = os.path.join(a.workdir, "qemu.stderr")
    qemu_err = open(err_path, "wb")
    qemu = subprocess.Popen(
        [a.qemu, "-L", "/usr/share/seabios", "-L", "/usr/share/qemu",
         "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512M",
         "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
         "-machine", "pc,memory-backend=mem",
         "-chardev", f"socket,id=gpu,path={px_sock}",
         "-device", f"vhost-user-gpu-pci,chardev=gpu,hostmem={HOSTMEM}",
         "-display", "none", "-serial", "stdio", "-monitor", "none", "-nic", "none",
         "-no-reboot", "-kernel", kernel, "-initrd", initrd,
         "-append", "console=ttyS0 panic=-1 quiet"],
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
        out = guest.run("/pv_blob_map 3", timeout=120)
        print(out.strip())
        check(re.search(r"PVT: round 1 mapped .*read 0x0 0x0 before, write/read back ok", out)
              is not None, "round 1: blob mapped through SHMEM_MAP, zeros, write/read back")
        check(re.search(r"PVT: round 2 mmap: Invalid argument", out) is not None,
              "round 2: QEMU's refusal reaches the guest as a failed mmap")
        check(re.search(r"PVT: round 3 mapped .*read 0x0 0x0 before, write/read back ok", out)
              is not None, "round 3: mapping works again")
        wait_for(lambda: proxy.maps >= 3 and proxy.unmaps >= 2 and len(proxy.replies) >= 5)
        check(proxy.maps == 3 and proxy.unmaps == 2,
              f"3 SHMEM_MAP, 2 SHMEM_UNMAP on the channel ({proxy.maps}, {proxy.unmaps})")
        # (the kernel may send round 1's unmap after round 2's map)
        maps = [v for r, v in proxy.replies if r == BACKEND_SHMEM_MAP]
        unmaps = [v for r, v in proxy.replies if r == BACKEND_SHMEM_UNMAP]
        check(maps[0] == 0 and maps[1] != 0 and maps[2] == 0 and unmaps == [0, 0],
              f"QEMU's replies: 0 except to the corrupted map ({proxy.replies})")
        with open(err_path, errors="replace") as f:
            err = f.read()
        m = re.search(r"SHMEM_MAP refused: [^\n]*not page aligned", err)
        check(m is not None, "QEMU logged the refusal naming the check")
        print("  " + m.group(0))
        out = guest.run("/pv_blob_map 2", timeout=120)
        print(out.strip())
        check("PVT: done, 0 of 2 rounds failed" in out, "a second run maps and unmaps normally")
        wait_for(lambda: proxy.maps >= 5 and proxy.unmaps >= 4)
        check(proxy.maps == 5 and proxy.unmaps == 4, "... through SHMEM_MAP/UNMAP")
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
        with open(be_log_path, errors="replace") as f:
            lines = [l for l in f.read().splitlines() if "SHMEM" in l or "map" in l.lower()]
        print("backend log lines about mapping:")
        for l in lines[:10]:
            print("  " + l)
        print(f"total {time.time() - start:.1f} s; logs in {a.workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
