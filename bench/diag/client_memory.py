#!/usr/bin/python3
"""What one context's host process holds in private memory, native and
through pv-vtest: runs pvbench's `clientloop` worker (the clients
workload's client: a 1080p clear loop) once natively and once as a venus
guest of a pv-vtest started here, stops both at `ready` (set up, warm-up
frames drawn: the moment pvbench samples the server's memory), and prints
bench/diag/smaps_breakdown.py's table for the native process and for the
pv-vtest client process serving the guest (and, for comparison, for an idle
pre-started one).

    bench/diag/client_memory.py --icd VENUS_ICD_JSON [--host-icd JSON]
        [--build DIR] [--wire-format N] [--env VAR=VAL]... [--server-arg ARG]...
        [--mappings]

Needs root (a private /tmp for pv-vtest's socket, through unshare(1), and
the threads' stack pointers). Run from the repository root.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import smaps_breakdown  # noqa: E402

LVP = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
SOCKET = "/tmp/.virgl_test"


def start_worker(pvbench, env, iters):
    rep_r, rep_w = os.pipe()
    go_r, go_w = os.pipe()

    def fds():
        os.dup2(rep_w, 3)
        os.dup2(go_r, 4)

    p = subprocess.Popen(
        ["pvbench-worker", "--worker", "clientloop", "--iters", str(iters), "--size", "0"],
        executable=pvbench, env=env, preexec_fn=fds, close_fds=False)
    os.close(rep_w)
    os.close(go_r)
    return p, os.fdopen(rep_r), go_w


def wait_ready(p, rep, timeout=120):
    deadline = time.time() + timeout
    values = {}
    for line in rep:
        words = line.split()
        if words[:1] == ["value"] and len(words) >= 3:
            values[words[1]] = words[2]
        if words[:1] == ["ready"]:
            return values
        if words[:1] == ["error"]:
            raise RuntimeError("worker: " + line.strip())
        if time.time() > deadline:
            break
    raise RuntimeError("worker did not get ready")


def finish(p, rep, go_w):
    os.write(go_w, b"g")
    values = {}
    for line in rep:
        words = line.split()
        if words[:1] == ["value"] and len(words) >= 3:
            values[words[1]] = words[2]
    p.wait(timeout=120)
    return values


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
        except (OSError, ValueError):
            continue
        if ppid == pid:
            out.append((int(d), comm))
    return out


def base_env(icd):
    env = dict(os.environ)
    for k in ("VK_ADD_DRIVER_FILES", "VN_DEBUG"):
        env.pop(k, None)
    env["VK_ICD_FILENAMES"] = icd
    env["VK_DRIVER_FILES"] = icd
    return env


def native(a):
    env = base_env(a.host_icd)
    p, rep, go = start_worker(a.pvbench, env, a.iters)
    v = wait_ready(p, rep)
    print(f"# native: the worker process itself (USS before the driver: "
          f"{v.get('uss_before_kb')} KiB)\n")
    smaps_breakdown.report(p.pid, a.mappings)
    after = finish(p, rep, go)
    print(f"pvbench's native figure (USS after the loop - before the driver): "
          f"{int(after['uss_after_kb']) - int(v['uss_before_kb'])} KiB\n")


def pearvisor(a):
    senv = base_env(a.host_icd)
    for e in a.server_env:
        k, _, val = e.partition("=")
        senv[k] = val
    argv = [a.pv_vtest]
    if a.wire_format:
        argv += ["--socket", "none", "--socket-wire-format-1", SOCKET]
    else:
        argv += ["--socket", SOCKET]
    argv += a.server_arg
    srv = subprocess.Popen(argv, env=senv, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    srv.stdout.readline()
    time.sleep(a.settle)
    idle = [pid for pid, _ in children(srv.pid)]
    env = base_env(a.icd)
    env["VN_DEBUG"] = "vtest"
    env["VTEST_SOCKET_NAME"] = SOCKET
    for e in a.env:
        k, _, val = e.partition("=")
        env[k] = val
    p, rep, go = start_worker(a.pvbench, env, a.iters)
    wait_ready(p, rep)
    time.sleep(a.settle)
    kids = children(srv.pid)
    serving = [pid for pid, comm in kids if comm.startswith("pv-client")]
    spare = [pid for pid, comm in kids if pid not in serving and pid not in idle]
    spare += [pid for pid, comm in kids if pid in idle and pid not in serving]
    print(f"# pearvisor: pv-vtest {' '.join(argv[1:])}\n")
    print("## the pv-vtest server process\n")
    smaps_breakdown.report(srv.pid, False)
    for pid in serving:
        print("## the client process serving the guest\n")
        smaps_breakdown.report(pid, a.mappings)
    if spare:
        print("## an idle pre-started client process (driver loaded, no guest yet)\n")
        smaps_breakdown.report(spare[0], a.mappings)
    print("## the guest (worker) process, for reference\n")
    smaps_breakdown.report(p.pid, False)
    finish(p, rep, go)
    srv.terminate()
    srv.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--icd", required=True)
    ap.add_argument("--host-icd", default=LVP)
    ap.add_argument("--build", default="build")
    ap.add_argument("--wire-format", type=int, default=0)
    ap.add_argument("--env", action="append", default=[], help="guest VAR=VAL")
    ap.add_argument("--server-env", action="append", default=[], help="pv-vtest VAR=VAL")
    ap.add_argument("--server-arg", action="append", default=[])
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--mappings", action="store_true")
    ap.add_argument("--paths", default="native,pearvisor")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.pvbench = os.path.join(a.build, "bench/pvbench")
    a.pv_vtest = os.path.join(a.build, "src/vtest/pv-vtest")
    if "pearvisor" in a.paths and not a.inner:
        # pv-vtest's socket in a private /tmp, as pvbench does
        if "native" in a.paths:
            native(a)
            sys.stdout.flush()
        args = [x for x in sys.argv[1:]]
        args += ["--inner", "--paths", "pearvisor"]
        return subprocess.call(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                'mount -t tmpfs none /tmp && exec "$0" "$@"',
                                sys.executable, os.path.abspath(__file__)] + args)
    if "native" in a.paths:
        native(a)
    if "pearvisor" in a.paths:
        pearvisor(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
