#!/usr/bin/env python3
"""pv-vhost-user-gpu against a QEMU-like vhost-user frontend written here,
so the transport is tested without a VM (QEMU 7.2's vhost-user-gpu needs
KVM). It plays both QEMU (vhost-user messages, memory table, vrings,
eventfds, the vhost-user-gpu display socket, the backend channel answering
SHMEM_MAP/SHMEM_UNMAP) and the guest driver (virtio-gpu commands placed in
the control and cursor rings, directly or through indirect tables, with
event idx), then checks what reaches the display, the PNG dump, the mapping
requests, and that a killed frontend leaves the backend serving the next.
Started as root (CI), the backend must run as `nobody` once sandboxed.

Usage: vhost_user_frontend_test.py --backend PATH --workdir DIR
"""
import argparse
import mmap
import os
import pwd
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib

# vhost-user
GET_FEATURES, SET_FEATURES, SET_OWNER = 1, 2, 3
SET_MEM_TABLE = 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL = 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
SET_BACKEND_REQ_FD = 21
GET_CONFIG = 24
GPU_SET_SOCKET = 33
NEED_REPLY = 0x8
# protocol features
PF_MQ, PF_REPLY_ACK, PF_BACKEND_REQ, PF_CONFIG, PF_SHMEM = 0, 3, 5, 9, 20
# backend channel requests (PearVisor's QEMU patch / upstream SHMEM proposal)
BACKEND_SHMEM_MAP, BACKEND_SHMEM_UNMAP = 9, 10
SHM_ID_HOST_VISIBLE = 1
HOSTMEM = 64 << 20
# vhost-user-gpu
VUG_GET_PROTOCOL_FEATURES, VUG_SET_PROTOCOL_FEATURES = 1, 2
VUG_CURSOR_UPDATE, VUG_SCANOUT, VUG_UPDATE = 6, 7, 8
# virtio-gpu
GET_DISPLAY_INFO, CREATE_2D, UNREF, SET_SCANOUT, FLUSH, TRANSFER_2D, ATTACH = (
    0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106)
GET_CAPSET_INFO, GET_CAPSET, GET_EDID, ASSIGN_UUID, CREATE_BLOB = 0x108, 0x109, 0x10a, 0x10b, 0x10c
MAP_BLOB, UNMAP_BLOB = 0x208, 0x209
BLOB_MEM_HOST3D, BLOB_FLAG_MAPPABLE = 2, 1
OK_RESOURCE_UUID, OK_MAP_INFO = 0x1105, 0x1106
ERR_UNSPEC, ERR_INVALID_PARAMETER = 0x1200, 0x1205
CTX_CREATE, CTX_DESTROY, SUBMIT_3D = 0x200, 0x201, 0x207
OK_CAPSET_INFO, OK_CAPSET = 0x1102, 0x1103
UPDATE_CURSOR = 0x300
OK_NODATA, OK_DISPLAY_INFO, OK_EDID = 0x1100, 0x1101, 0x1104
ERR_INVALID_RESOURCE_ID = 0x1203
B8G8R8X8 = 2
FLAG_FENCE = 1

W, H = 320, 240
MEM_SIZE = 4 << 20
UVA_BASE = 0x7F0000000000  # our "QEMU virtual address" of guest address 0
QSIZE = 64
RINGS = [(0x0000, 0x1000, 0x2000), (0x3000, 0x4000, 0x5000)]  # desc, avail, used
CMD_BUF, RESP_BUF, FB, CURSOR_FB = 0x10000, 0x20000, 0x100000, 0x200000
INDIRECT_TABLE = 0x6000
# Ring features (virtio 1.2, 2.7.5.3 and 2.7.7.2).
F_INDIRECT_DESC, F_EVENT_IDX = 28, 29
VIRTIO_FEATURES = (1 << 32) | (1 << 30) | (1 << 1) | (1 << F_INDIRECT_DESC) | (1 << F_EVENT_IDX)
DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


class Frontend:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)

    def send(self, req, payload=b"", fds=(), flags=0x1):
        msg = struct.pack("<III", req, flags, len(payload)) + payload
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))] if fds else []
        self.s.sendmsg([msg], anc)

    def recv_reply(self, req):
        hdr = self._read(12)
        r, flags, size = struct.unpack("<III", hdr)
        assert r == req and flags & 0x4, (r, flags)
        return self._read(size)

    def _read(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("backend closed the vhost-user socket")
            b += c
        return b

    def call_u64(self, req):
        self.send(req)
        return struct.unpack("<Q", self.recv_reply(req))[0]


class Guest:
    """The guest driver's side of the two virtqueues in shared memory."""

    def __init__(self, mem, kicks, calls):
        self.mem, self.kicks, self.calls = mem, kicks, calls
        self.avail_idx = [0, 0]
        self.used_seen = [0, 0]
        self.indirect = False    # put each chain in an indirect table
        self.event_idx = False   # EVENT_IDX negotiated: drive used_event
        self.used_event_ahead = 0  # >0: ask for no interrupt this time
        self.interrupts = 0      # call eventfd signals seen with event idx

    def w(self, addr, data):
        self.mem[addr:addr + len(data)] = data

    def r(self, addr, n):
        return bytes(self.mem[addr:addr + n])

    def drain_call(self, q):
        try:
            return os.eventfd_read(self.calls[q])
        except BlockingIOError:
            return 0

    def submit(self, q, cmd, resp_len=24, wait=True):
        desc, avail, used = RINGS[q]
        self.w(CMD_BUF, cmd)
        self.w(RESP_BUF, b"\xee" * resp_len)
        descs = [(CMD_BUF, len(cmd), DESC_F_NEXT, 1)]
        if resp_len:
            descs.append((RESP_BUF, resp_len, DESC_F_WRITE, 0))
        else:
            descs[0] = (CMD_BUF, len(cmd), 0, 0)
        if self.indirect:
            for i, (addr, ln, flags, nxt) in enumerate(descs):
                self.w(INDIRECT_TABLE + 16 * i, struct.pack("<QIHH", addr, ln, flags, nxt))
            descs = [(INDIRECT_TABLE, 16 * len(descs), DESC_F_INDIRECT, 0)]
        for i, (addr, ln, flags, nxt) in enumerate(descs):
            self.w(desc + 16 * i, struct.pack("<QIHH", addr, ln, flags, nxt))
        if self.event_idx:
            # used_event: interrupt once the used index passes it.
            self.w(avail + 4 + 2 * QSIZE,
                   struct.pack("<H", (self.used_seen[q] + self.used_event_ahead) & 0xFFFF))
            self.drain_call(q)
        i = self.avail_idx[q]
        self.w(avail + 4 + 2 * (i % QSIZE), struct.pack("<H", 0))
        self.avail_idx[q] = (i + 1) & 0xFFFF
        self.w(avail + 2, struct.pack("<H", self.avail_idx[q]))
        os.eventfd_write(self.kicks[q], 1)
        if not wait:
            return None
        deadline = time.time() + 10
        while True:
            (used_idx,) = struct.unpack("<H", self.r(used + 2, 2))
            if used_idx != self.used_seen[q]:
                break
            if time.time() > deadline:
                raise TimeoutError(f"queue {q}: no response")
            select.select([self.calls[q]], [], [], 0.2)
        elem = self.r(used + 4 + 8 * (self.used_seen[q] % QSIZE), 8)
        self.used_seen[q] = used_idx
        if self.event_idx:
            # The interrupt comes after the used index moved.
            if not self.used_event_ahead:
                select.select([self.calls[q]], [], [], 2)
            got = self.drain_call(q)
            self.interrupts += 1 if got else 0
            if not got and not self.used_event_ahead:
                print(f"no interrupt: q{q} cmd {struct.unpack_from('<I', cmd)[0]:#x}")
        head, ln = struct.unpack("<II", elem)
        return self.r(RESP_BUF, ln)

    def avail_event(self, q):
        desc, avail, used = RINGS[q]
        return struct.unpack("<H", self.r(used + 4 + 8 * QSIZE, 2))[0]


class BackendChannel:
    """QEMU's end of the vhost-user backend channel: answers SHMEM_MAP and
    SHMEM_UNMAP (ok, or a failure when told to), records every request."""

    def __init__(self, sock):
        self.s = sock
        self.requests = []    # (request, flags, (shmid, fd_offset, shm_offset, len, flags), fd size)
        self.fail_next = 0
        self.before_reply = None  # run (once) before answering the next request
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while True:
            try:
                msg, anc, _, _ = self.s.recvmsg(12 + 40, socket.CMSG_SPACE(4 * 4))
            except OSError:
                return
            if not msg:
                return
            fds = []
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds += list(struct.unpack(f"{len(data) // 4}i", data[:len(data) // 4 * 4]))
            req, flags, size = struct.unpack("<III", msg[:12])
            body = msg[12:]
            shmid, = struct.unpack("<B", body[:1])
            fd_off, shm_off, ln, mflags = struct.unpack("<QQQQ", body[8:40])
            fd_size = None
            for fd in fds:
                fd_size = os.fstat(fd).st_size
                if req == BACKEND_SHMEM_MAP:  # QEMU would mmap it into the BAR
                    m = mmap.mmap(fd, ln, offset=fd_off)
                    m[0:4] = b"PVOK"
                    m.close()
                os.close(fd)
            with self.lock:
                self.requests.append((req, flags, size, (shmid, fd_off, shm_off, ln, mflags),
                                      len(fds), fd_size))
                status = 1 if self.fail_next else 0
                if self.fail_next:
                    self.fail_next -= 1
            hook, self.before_reply = self.before_reply, None
            if hook:
                hook()
            if flags & NEED_REPLY:
                self.s.sendall(struct.pack("<IIIQ", req, 0x1 | 0x4, 8, status))

    def take(self):
        with self.lock:
            r, self.requests = self.requests, []
            return r


def hdr(t, flags=0, fence=0):
    return struct.pack("<IIQIB3x", t, flags, fence, 0, 0)


def resp_type(resp):
    return struct.unpack("<I", resp[:4])[0] if len(resp) >= 4 else None


class Display:
    """QEMU's end of the vhost-user-gpu socket."""

    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(10)
        self.buf = b""

    def next(self):
        while True:
            if len(self.buf) >= 12:
                req, flags, size = struct.unpack("<III", self.buf[:12])
                if len(self.buf) >= 12 + size:
                    payload = self.buf[12:12 + size]
                    self.buf = self.buf[12 + size:]
                    if req == VUG_GET_PROTOCOL_FEATURES:
                        self.s.sendall(struct.pack("<IIIQ", req, 0x4, 8, 0))
                    return req, payload
            c = self.s.recv(1 << 20)
            if not c:
                raise EOFError("display channel closed")
            self.buf += c

    def expect(self, want):
        while True:
            req, payload = self.next()
            if req == want:
                return payload


def png_pixels(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (ln,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + ln]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + ln
    raw = zlib.decompress(idat)
    bpp, stride = 3, w * 3
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return w, h, depth, ctype, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    sock_path = os.path.join(a.workdir, "vu.sock")
    # Started as root, the backend runs as nobody: its PNG goes to a
    # directory nobody may write.
    out = os.path.join(a.workdir, "backend-out")
    os.makedirs(out, exist_ok=True)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(out, nobody.pw_uid, nobody.pw_gid)
    png = os.path.join(out, "frontend-test.png")
    for p in (sock_path, png):
        if os.path.exists(p):
            os.unlink(p)
    log = open(os.path.join(a.workdir, "frontend-test-backend.log"), "wb")
    env = dict(os.environ, PV_LOG="info")
    be = subprocess.Popen([a.backend, "--socket-path", sock_path, "--png", png,
                           "--width", str(W), "--height", str(H), "--hostmem", "64M"],
                          stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock_path):
            if be.poll() is not None or time.time() > deadline:
                print("FAIL: backend did not start")
                return 1
            time.sleep(0.05)
        run(Frontend(sock_path), be, png)
        check_sandboxed(be.pid)
        run_reconnect(sock_path, be)
        be.send_signal(signal.SIGTERM)
    except Exception as e:  # report, then the backend log
        failures.append(repr(e))
        print("FAIL:", repr(e))
    finally:
        try:
            rc = be.wait(20)
        except subprocess.TimeoutExpired:
            be.kill()
            rc = be.wait()
        log.close()
        check(rc == 0, f"backend exit status {rc}")
        if failures:
            with open(os.path.join(a.workdir, "frontend-test-backend.log"), errors="replace") as f:
                print("---- backend log ----\n" + f.read()[-3000:])
    check_refused_options(a.backend, a.workdir)
    print("PASS" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


def gpu_node_groups():
    """The groups the backend keeps besides its user's: those owning a GPU
    device node they may read and write (not the root group)."""
    gids = set()
    for d, prefix in (("/dev/dri", ""), ("/dev", "nvidia")):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for n in names:
            if not n.startswith(prefix):
                continue
            try:
                st = os.stat(os.path.join(d, n))
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) and st.st_gid != 0 and st.st_mode & 0o060 == 0o060:
                gids.add(st.st_gid)
    return gids


def check_sandboxed(pid):
    """The serving backend's credentials: as root, it dropped to nobody
    (no --user given), no capabilities, no_new_privs, a seccomp filter."""
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    print("backend credentials:", {k: status.get(k) for k in
                                   ("Uid", "Gid", "Groups", "CapEff", "NoNewPrivs", "Seccomp")})
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        check(status["Uid"].split() == [str(nobody.pw_uid)] * 4,
              f"started as root, runs as nobody: Uid {status['Uid']}")
        check(status["Gid"].split() == [str(nobody.pw_gid)] * 4, f"Gid {status['Gid']}")
        groups = {int(g) for g in status.get("Groups", "").split()}
        check(groups <= {nobody.pw_gid} | gpu_node_groups() and 0 not in groups,
              f"groups: its own and the GPU nodes' only: {groups}")
        check(int(status["CapEff"], 16) == 0, f"no capabilities: {status['CapEff']}")
    else:
        check(status["Uid"].split()[0] == str(os.getuid()), f"Uid {status['Uid']}")
    check(status.get("NoNewPrivs") == "1", "no_new_privs")
    check(status.get("Seccomp") == "2", "a seccomp filter")


def check_refused_options(backend, workdir):
    """Options the backend refuses before it serves anything."""
    sock = os.path.join(workdir, "refused.sock")
    for args, why in ((["--user", "root"], "--user root (uid 0)"),
                      (["--budget-shm", "../x"], "a --budget-shm name with a slash"),
                      (["--memory-budget", "12"], "a budget that is not a page multiple")):
        if args[0] == "--user" and os.geteuid() != 0:
            continue  # not root: nothing to drop, --user is ignored
        p = subprocess.run([backend, "--socket-path", sock] + args, capture_output=True,
                           timeout=30)
        check(p.returncode != 0, f"refused: {why} (exit {p.returncode})")


def connect(fe):
    """QEMU's start of a vhost-user-gpu device: features, protocol features
    (SHMEM with the backend channel), memory table, rings, display socket.
    Returns (guest, display, backend channel, features)."""
    feats = fe.call_u64(GET_FEATURES)
    check(feats & (1 << 32) and feats & (1 << 30) and feats & (1 << 1), f"features {feats:#x}")
    check(feats & (1 << F_INDIRECT_DESC) and feats & (1 << F_EVENT_IDX),
          f"ring features INDIRECT_DESC and EVENT_IDX offered: {feats:#x}")
    check(feats & (1 << 2), "RESOURCE_UUID offered")
    pf = fe.call_u64(GET_PROTOCOL_FEATURES)
    check(pf & (1 << PF_CONFIG), "protocol feature CONFIG")
    want = (1 << PF_SHMEM) | (1 << PF_BACKEND_REQ) | (1 << PF_REPLY_ACK)
    check(pf & want == want, f"protocol features SHMEM, BACKEND_REQ, REPLY_ACK offered: {pf:#x}")
    fe.send(SET_PROTOCOL_FEATURES, struct.pack("<Q", pf & ((1 << PF_CONFIG) | (1 << PF_MQ) | want)))
    check(fe.call_u64(GET_QUEUE_NUM) == 2, "two queues")
    # REPLY_ACK: a message with NEED_REPLY is acknowledged.
    fe.send(SET_OWNER, flags=0x1 | NEED_REPLY)
    check(struct.unpack("<Q", fe.recv_reply(SET_OWNER))[0] == 0, "REPLY_ACK for SET_OWNER")
    ch_ours, ch_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fe.send(SET_BACKEND_REQ_FD, b"", [ch_theirs.fileno()], flags=0x1 | NEED_REPLY)
    ch_theirs.close()
    check(struct.unpack("<Q", fe.recv_reply(SET_BACKEND_REQ_FD))[0] == 0, "SET_BACKEND_REQ_FD acked")
    channel = BackendChannel(ch_ours)
    fe.send(GET_CONFIG, struct.pack("<III", 0, 16, 0) + bytes(16))
    cfg = fe.recv_reply(GET_CONFIG)
    check(struct.unpack("<IIII", cfg[12:28])[2] == 1, "config: one scanout")

    # DRIVER_OK: QEMU hands over the display socket, then starts the rings.
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fe.send(GPU_SET_SOCKET, b"", [theirs.fileno()])
    theirs.close()
    display = Display(ours)
    fe.send(SET_FEATURES, struct.pack("<Q", VIRTIO_FEATURES))

    memfd = os.memfd_create("guest-ram")
    os.ftruncate(memfd, MEM_SIZE)
    mem = mmap.mmap(memfd, MEM_SIZE)
    fe.send(SET_MEM_TABLE, struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, MEM_SIZE, UVA_BASE, 0),
            [memfd], flags=0x1 | NEED_REPLY)
    os.close(memfd)
    check(struct.unpack("<Q", fe.recv_reply(SET_MEM_TABLE))[0] == 0, "SET_MEM_TABLE acked")
    kicks, calls = [], []
    for q, (desc, avail, used) in enumerate(RINGS):
        fe.send(SET_VRING_NUM, struct.pack("<II", q, QSIZE))
        fe.send(SET_VRING_BASE, struct.pack("<II", q, 0))
        fe.send(SET_VRING_ADDR, struct.pack("<IIQQQQ", q, 0, UVA_BASE + desc, UVA_BASE + used,
                                            UVA_BASE + avail, 0))
        k, c = os.eventfd(0, os.EFD_NONBLOCK), os.eventfd(0, os.EFD_NONBLOCK)
        fe.send(SET_VRING_KICK, struct.pack("<Q", q), [k])
        fe.send(SET_VRING_CALL, struct.pack("<Q", q), [c])
        fe.send(SET_VRING_ENABLE, struct.pack("<II", q, 1))
        kicks.append(k)
        calls.append(c)
    # A round trip: the backend has handled every set-up message (QEMU
    # starts the guest only after vhost_dev_start) before the guest kicks.
    fe.call_u64(GET_QUEUE_NUM)
    g = Guest(mem, kicks, calls)
    g.event_idx = True
    return g, display, channel, feats


def run(fe, be, png):
    g, display, channel, feats = connect(fe)
    kicks = g.kicks

    r = g.submit(0, hdr(GET_DISPLAY_INFO), 24 + 16 * 24)
    check(resp_type(r) == OK_DISPLAY_INFO, "GET_DISPLAY_INFO")
    check(struct.unpack("<IIIII", r[24:44]) == (0, 0, W, H, 1), "display mode")
    r = g.submit(0, hdr(GET_EDID) + struct.pack("<II", 0, 0), 24 + 8 + 1024)
    check(resp_type(r) == OK_EDID and sum(r[32:160]) % 256 == 0, "GET_EDID")

    check(resp_type(g.submit(0, hdr(CREATE_2D) + struct.pack("<IIII", 1, B8G8R8X8, W, H)))
          == OK_NODATA, "RESOURCE_CREATE_2D")
    check(resp_type(g.submit(0, hdr(ATTACH) + struct.pack("<II", 1, 1) +
                                struct.pack("<QII", FB, W * H * 4, 0))) == OK_NODATA,
          "ATTACH_BACKING")
    # A 40x30 square at (100, 50): B=0x30 G=0x20 R=0x10.
    for y in range(50, 80):
        g.w(FB + (y * W + 100) * 4, bytes([0x30, 0x20, 0x10, 0]) * 40)
    check(resp_type(g.submit(0, hdr(TRANSFER_2D) + struct.pack("<IIIIQII", 0, 0, W, H, 0, 1, 0)))
          == OK_NODATA, "TRANSFER_TO_HOST_2D")
    check(resp_type(g.submit(0, hdr(SET_SCANOUT) + struct.pack("<IIIIII", 0, 0, W, H, 0, 1)))
          == OK_NODATA, "SET_SCANOUT")
    scan = display.expect(VUG_SCANOUT)
    check(struct.unpack("<III", scan) == (0, W, H), f"display SCANOUT {scan!r}")
    up = display.expect(VUG_UPDATE)
    check(struct.unpack("<IIIII", up[:20]) == (0, 0, 0, W, H), "display UPDATE rect")
    px = struct.unpack_from("<I", up, 20 + (60 * W + 110) * 4)[0]
    check(px & 0xFFFFFF == 0x102030, f"display UPDATE pixel {px:#x}")

    r = g.submit(0, hdr(FLUSH, FLAG_FENCE, 99) + struct.pack("<IIIIII", 100, 50, 40, 30, 1, 0))
    check(resp_type(r) == OK_NODATA and struct.unpack("<Q", r[8:16])[0] == 99, "fenced FLUSH")
    up = display.expect(VUG_UPDATE)
    check(struct.unpack("<IIIII", up[:20]) == (0, 100, 50, 40, 30), "flush UPDATE rect")
    check(resp_type(g.submit(0, hdr(FLUSH) + struct.pack("<IIIIII", 0, 0, 1, 1, 7, 0)))
          == ERR_INVALID_RESOURCE_ID, "FLUSH of an unknown resource")

    # Cursor: a 64x64 resource, then UPDATE_CURSOR on the cursor queue.
    g.submit(0, hdr(CREATE_2D) + struct.pack("<IIII", 2, 1, 64, 64))
    g.submit(0, hdr(ATTACH) + struct.pack("<II", 2, 1) + struct.pack("<QII", CURSOR_FB, 64 * 64 * 4, 0))
    g.w(CURSOR_FB, bytes([1, 2, 3, 0xFF]))
    g.submit(0, hdr(TRANSFER_2D) + struct.pack("<IIIIQII", 0, 0, 64, 64, 0, 2, 0))
    g.submit(1, hdr(UPDATE_CURSOR) + struct.pack("<IIII", 0, 5, 6, 0) + struct.pack("<IIII", 2, 1, 1, 0),
             0)
    cur = display.expect(VUG_CURSOR_UPDATE)
    check(struct.unpack("<IIIII", cur[:20]) == (0, 5, 6, 1, 1) and
          struct.unpack_from("<I", cur, 20)[0] == 0xFF030201, "display CURSOR_UPDATE")

    run_ring_features(g)

    if feats & 1:  # VIRGL: the renderer is built in
        run_3d(g)
        run_hostmem(g, channel, fe)
    else:
        print("3D: backend without renderer, skipped")

    # The PNG dump shows the square.
    be.send_signal(signal.SIGUSR1)
    deadline = time.time() + 10
    while not os.path.exists(png) and time.time() < deadline:
        time.sleep(0.05)
    check(os.path.exists(png), "PNG written on SIGUSR1")
    if os.path.exists(png):
        w, h, depth, ctype, rows = png_pixels(png)
        check((w, h, depth, ctype) == (W, H, 8, 2), f"PNG format {(w, h, depth, ctype)}")
        check(rows[60][110 * 3:110 * 3 + 3] == bytes([0x10, 0x20, 0x30]), "PNG square pixel")
        check(rows[10][10 * 3:10 * 3 + 3] == bytes(3), "PNG background pixel")

    # A malformed ring (head out of range) stops the queue, not the process.
    desc, avail, used = RINGS[0]
    g.w(avail + 4 + 2 * (g.avail_idx[0] % QSIZE), struct.pack("<H", 1000))
    g.avail_idx[0] += 1
    g.w(avail + 2, struct.pack("<H", g.avail_idx[0]))
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.3)
    check(be.poll() is None, "backend survives a malformed ring")

    # QEMU stops the device: GET_VRING_BASE returns where the ring stopped.
    fe.send(GET_VRING_BASE, struct.pack("<II", 1, 0))
    idx, base = struct.unpack("<II", fe.recv_reply(GET_VRING_BASE))
    check((idx, base) == (1, 1), f"GET_VRING_BASE {(idx, base)}")
    fe.s.close()
    channel.s.close()


def run_ring_features(g):
    """INDIRECT_DESC and EVENT_IDX as Linux's virtio_ring drives them."""
    check(g.interrupts == g.used_seen[0] + g.used_seen[1],
          f"event idx: an interrupt per wanted completion ({g.interrupts} for "
          f"{g.used_seen[0] + g.used_seen[1]})")
    check(g.avail_event(0) == g.avail_idx[0], f"avail_event {g.avail_event(0)} = next index")
    g.indirect = True
    r = g.submit(0, hdr(GET_DISPLAY_INFO), 24 + 16 * 24)
    check(resp_type(r) == OK_DISPLAY_INFO and struct.unpack("<IIIII", r[24:44]) == (0, 0, W, H, 1),
          "GET_DISPLAY_INFO through an indirect table")
    check(resp_type(g.submit(0, hdr(FLUSH) + struct.pack("<IIIIII", 0, 0, 1, 1, 7, 0)))
          == ERR_INVALID_RESOURCE_ID, "indirect: error response")
    # Interrupt suppressed: used_event far ahead, so no signal.
    before = g.interrupts
    g.used_event_ahead = 100
    check(resp_type(g.submit(0, hdr(GET_DISPLAY_INFO), 24 + 16 * 24)) == OK_DISPLAY_INFO,
          "indirect with suppressed interrupt")
    time.sleep(0.1)
    check(g.interrupts == before and not g.drain_call(0), "event idx: no interrupt when not wanted")
    g.used_event_ahead = 0
    check(resp_type(g.submit(0, hdr(GET_DISPLAY_INFO), 24 + 16 * 24)) == OK_DISPLAY_INFO
          and g.interrupts == before + 1, "event idx: interrupt wanted again")
    g.indirect = False
    print(f"rings: indirect tables and event idx: done ({g.interrupts} interrupts)")


def chdr(t, ctx, flags=0, fence=0):
    return struct.pack("<IIQIB3x", t, flags, fence, ctx, 0)


def create_blob(g, ctx, res, size, flags):
    return resp_type(g.submit(0, chdr(CREATE_BLOB, ctx) +
                              struct.pack("<IIIIQQ", res, BLOB_MEM_HOST3D, flags, 0, 0, size)))


def map_blob(g, res, offset):
    r = g.submit(0, hdr(MAP_BLOB) + struct.pack("<IIQ", res, 0, offset), 32)
    return resp_type(r), (struct.unpack("<I", r[24:28])[0] if len(r) >= 28 else None)


def unmap_blob(g, res):
    return resp_type(g.submit(0, hdr(UNMAP_BLOB) + struct.pack("<II", res, 0)))


def ctx_create(g, ctx):
    cc = chdr(CTX_CREATE, ctx) + struct.pack("<II", 4, 4) + b"test".ljust(64, b"\0")
    return resp_type(g.submit(0, cc))


def run_hostmem(g, ch, fe):
    """HOST3D blobs mapped into the host-visible region through SHMEM_MAP /
    SHMEM_UNMAP on the backend channel; bad guest requests never reach it."""
    check(ctx_create(g, 6) == OK_NODATA, "hostmem: CTX_CREATE")
    check(create_blob(g, 6, 50, 5000, BLOB_FLAG_MAPPABLE) == OK_NODATA, "CREATE_BLOB 50 mappable")
    check(create_blob(g, 6, 51, 4096, BLOB_FLAG_MAPPABLE) == OK_NODATA, "CREATE_BLOB 51 mappable")
    check(create_blob(g, 6, 52, 4096, 0) == OK_NODATA, "CREATE_BLOB 52 not mappable")
    t, info = map_blob(g, 50, 0x10000)
    check(t == OK_MAP_INFO and info == 1, f"MAP_BLOB 50: {t:#x} map_info {info}")
    reqs = ch.take()
    check(len(reqs) == 1 and reqs[0][0] == BACKEND_SHMEM_MAP and reqs[0][1] & NEED_REPLY and
          reqs[0][2] == 40 and reqs[0][3] == (SHM_ID_HOST_VISIBLE, 0, 0x10000, 8192, 3) and
          reqs[0][4] == 1 and reqs[0][5] >= 5000, f"SHMEM_MAP request {reqs}")
    for res, off, what in ((50, 0x40000, "mapped twice"), (51, 0x11000, "overlapping"),
                           (51, 0x20001, "misaligned"), (51, HOSTMEM, "outside the region"),
                           (51, HOSTMEM - 4096 + (1 << 64) - HOSTMEM, "wrapping"),
                           (52, 0x20000, "not mappable")):
        t, _ = map_blob(g, res, off % (1 << 64))
        check(t == ERR_INVALID_PARAMETER, f"MAP_BLOB {what}: {t:#x}")
    t, _ = map_blob(g, 77, 0x20000)
    check(t == ERR_INVALID_RESOURCE_ID, f"MAP_BLOB of an unknown resource: {t:#x}")
    check(ch.take() == [], "rejected maps send nothing to QEMU")
    # QEMU refusing the map fails that command only.
    ch.fail_next = 1
    t, _ = map_blob(g, 51, 0x20000)
    check(t == ERR_UNSPEC, f"MAP_BLOB refused by QEMU: {t:#x}")
    check(len(ch.take()) == 1, "the refused SHMEM_MAP was sent")
    # QEMU blocked on a config read (a vCPU holds its lock) answers the map
    # only after the backend answered GET_CONFIG: no deadlock.
    got = []

    def config_read():
        fe.send(GET_CONFIG, struct.pack("<III", 0, 16, 0) + bytes(16))
        got.append(fe.recv_reply(GET_CONFIG))
    ch.before_reply = config_read
    t, _ = map_blob(g, 51, 0x20000)
    check(t == OK_MAP_INFO, "MAP_BLOB after a refusal")
    check(len(got) == 1 and struct.unpack("<IIII", got[0][12:28])[2] == 1,
          "GET_CONFIG answered while a SHMEM_MAP waits for QEMU")
    check(unmap_blob(g, 51) == OK_NODATA, "UNMAP_BLOB 51")
    reqs = ch.take()
    check([r[:4] for r in reqs] == [(BACKEND_SHMEM_MAP, 0x9, 40, (1, 0, 0x20000, 4096, 3)),
                                    (BACKEND_SHMEM_UNMAP, 0x9, 40, (1, 0, 0x20000, 4096, 0))]
          and reqs[1][4] == 0, f"SHMEM_UNMAP request {reqs}")
    check(unmap_blob(g, 51) == ERR_INVALID_PARAMETER, "UNMAP_BLOB twice")
    check(unmap_blob(g, 52) == ERR_INVALID_PARAMETER, "UNMAP_BLOB of a never mapped blob")
    check(ch.take() == [], "rejected unmaps send nothing to QEMU")
    # RESOURCE_ASSIGN_UUID: the same uuid each time for one resource.
    r1 = g.submit(0, hdr(ASSIGN_UUID) + struct.pack("<II", 50, 0), 40)
    r2 = g.submit(0, hdr(ASSIGN_UUID) + struct.pack("<II", 50, 0), 40)
    check(resp_type(r1) == OK_RESOURCE_UUID and r1[24:40] == r2[24:40] and any(r1[24:40]),
          "RESOURCE_ASSIGN_UUID stable")
    # Unref of a mapped blob unmaps it first.
    check(resp_type(g.submit(0, hdr(UNREF) + struct.pack("<II", 50, 0))) == OK_NODATA, "UNREF 50")
    reqs = ch.take()
    check([r[:4] for r in reqs] == [(BACKEND_SHMEM_UNMAP, 0x9, 40, (1, 0, 0x10000, 8192, 0))],
          f"UNREF of a mapped blob unmaps it: {reqs}")
    # Left mapped, with its context, for the disconnect below.
    check(map_blob(g, 51, 0x30000)[0] == OK_MAP_INFO, "MAP_BLOB 51 again")
    print("hostmem: SHMEM_MAP/UNMAP on the backend channel, guest checks, uuid: done")


def run_reconnect(sock_path, be):
    """QEMU goes away mid-stream (guest killed): the backend frees that
    guest's state and serves the next connection on the same socket."""
    for n in (2, 3):
        fe = Frontend(sock_path)
        g, display, ch, feats = connect(fe)
        r = g.submit(0, hdr(GET_DISPLAY_INFO), 24 + 16 * 24)
        check(resp_type(r) == OK_DISPLAY_INFO, f"connection {n}: GET_DISPLAY_INFO")
        if feats & 1:
            # Same ids as the guest before: its context, blobs and mappings are gone.
            check(ctx_create(g, 6) == OK_NODATA, f"connection {n}: CTX_CREATE 6 again")
            check(create_blob(g, 6, 51, 4096, BLOB_FLAG_MAPPABLE) == OK_NODATA,
                  f"connection {n}: CREATE_BLOB 51 again")
            check(map_blob(g, 51, 0x30000)[0] == OK_MAP_INFO, f"connection {n}: MAP_BLOB 51 again")
            sub = chdr(SUBMIT_3D, 6, FLAG_FENCE, 77) + struct.pack("<II", 0, 0)
            if n == 3:
                r = g.submit(0, sub)
                check(resp_type(r) == OK_NODATA and struct.unpack("<Q", r[8:16])[0] == 77,
                      f"connection {n}: fenced SUBMIT_3D")
                # A device reset (QEMU stops the control queue and drops the
                # region's mappings itself): answered at once, no unmap sent.
                ch.take()
                t0 = time.time()
                fe.send(GET_VRING_BASE, struct.pack("<II", 0, 0))
                fe.recv_reply(GET_VRING_BASE)
                check(time.time() - t0 < 2 and ch.take() == [],
                      "reset with a mapped blob: no SHMEM_UNMAP while QEMU waits")
            else:
                g.submit(0, sub, wait=False)  # killed before the answer
        # Killed: every socket of this "QEMU" closes at once, no GET_VRING_BASE.
        fe.s.close()
        ch.s.close()
        display.s.close()
        time.sleep(0.2)
        check(be.poll() is None, f"backend alive after connection {n} went away")
    print("reconnect: two more guests on the same socket after a kill mid-stream: done")


def run_3d(g):
    """Venus routing through the real renderer: capset, context, a fenced
    empty SUBMIT_3D whose response waits for the renderer's fence."""
    r = g.submit(0, hdr(GET_CAPSET_INFO) + struct.pack("<II", 0, 0), 40)
    check(resp_type(r) == OK_CAPSET_INFO, "GET_CAPSET_INFO")
    cid, ver, size = struct.unpack("<III", r[24:36])
    check(cid == 4 and 0 < size <= 4096, f"venus capset info {(cid, ver, size)}")
    r = g.submit(0, hdr(GET_CAPSET) + struct.pack("<II", 4, ver), 24 + size)
    check(resp_type(r) == OK_CAPSET, "GET_CAPSET")
    cc = struct.pack("<IIQIB3x", CTX_CREATE, 0, 0, 5, 0) + struct.pack("<II", 4, 4) + b"test".ljust(64, b"\0")
    check(resp_type(g.submit(0, cc)) == OK_NODATA, "CTX_CREATE venus")
    sub = struct.pack("<IIQIB3x", SUBMIT_3D, FLAG_FENCE, 1234, 5, 0) + struct.pack("<II", 0, 0)
    r = g.submit(0, sub)
    check(resp_type(r) == OK_NODATA and struct.unpack("<Q", r[8:16])[0] == 1234,
          "fenced SUBMIT_3D answered after its fence")
    check(resp_type(g.submit(0, struct.pack("<IIQIB3x", CTX_DESTROY, 0, 0, 5, 0))) == OK_NODATA,
          "CTX_DESTROY")
    print(f"3D: venus capset v{ver} ({size} bytes), context, fenced submit: done")


if __name__ == "__main__":
    sys.exit(main())
