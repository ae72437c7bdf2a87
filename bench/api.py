#!/usr/bin/env python3
"""Firecracker API benchmark: what the API socket costs and how fast it answers.

1. exec -> first serial byte of hello.elf: `run` without the API, `run --api-sock`, and (with --baseline BIN)
   another build's `run`, alternately in one run so noise hits all alike.
2. PUT /machine-config latency, p50/p99 over --requests requests on one kept-alive connection.
3. InstanceStart -> first serial byte: the time from sending PUT /actions {InstanceStart} to the guest's first byte.

usage: bench/api.py [--runs 20] [--requests 1000] [--bin out/bhyve-aot] [--baseline OTHER_BIN]
"""
import argparse, os, socket, statistics, subprocess, sys, tempfile, time

def first_byte(argv):
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.read(1)
    t = time.perf_counter() - start
    p.stdout.read(); p.wait()
    return t

def wait_for(path, proc):
    deadline = time.time() + 20
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() > deadline: sys.exit("the API socket did not appear")
        time.sleep(0.002)

def request(sock, method, path, body):
    data = body.encode()
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    reply = b""
    while b"\r\n\r\n" not in reply: reply += sock.recv(4096)
    head, _, rest = reply.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": length = int(v)
    while len(rest) < length: rest += sock.recv(4096)
    return int(head.split(b" ")[1])

def pct(values, q):
    s = sorted(values); return s[min(len(s) - 1, int(q * len(s)))]

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--bin", default=os.path.join(root, "out/bhyve-aot"))
    ap.add_argument("--baseline")
    args = ap.parse_args()
    kernel = os.path.join(root, "native/guest/build/hello.elf")
    tmp = tempfile.mkdtemp(prefix="bhyve-aot-apibench-")
    sock_path = os.path.join(tmp, "api.sock")

    runs = {"run": [args.bin, "run", "--kernel", kernel, "--cmdline", "exit=0"],
            "run --api-sock": [args.bin, "run", "--kernel", kernel, "--cmdline", "exit=0", "--api-sock", sock_path]}
    if args.baseline: runs["baseline run"] = [args.baseline, "run", "--kernel", kernel, "--cmdline", "exit=0"]
    times = {k: [] for k in runs}
    for _ in range(args.runs):
        for k, argv in runs.items():
            times[k].append(first_byte(argv))
    print("exec -> first serial byte (median of %d, ms):" % args.runs)
    for k, v in times.items(): print(f"  {k:<16} {statistics.median(v) * 1000:8.2f}")

    proc = subprocess.Popen([args.bin, "--api-sock", sock_path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wait_for(sock_path, proc)
    s = socket.socket(socket.AF_UNIX); s.connect(sock_path)
    lat = []
    for i in range(args.requests):
        t = time.perf_counter()
        status = request(s, "PUT", "/machine-config", '{"vcpu_count": %d, "mem_size_mib": 64}' % (1 + i % 2))
        lat.append(time.perf_counter() - t)
        assert status == 204, status
    print(f"PUT /machine-config over {args.requests} requests: p50 {pct(lat, .5) * 1e6:.0f} us, p99 {pct(lat, .99) * 1e6:.0f} us")
    assert request(s, "PUT", "/boot-source", '{"kernel_image_path": "%s", "boot_args": "exit=0"}' % kernel) == 204
    t = time.perf_counter()
    s.sendall(b'PUT /actions HTTP/1.1\r\nContent-Length: 32\r\n\r\n{"action_type": "InstanceStart"}')
    proc.stdout.read(1)
    print(f"InstanceStart -> first serial byte: {(time.perf_counter() - t) * 1000:.2f} ms")
    proc.stdout.read(); proc.wait()

if __name__ == "__main__":
    main()
