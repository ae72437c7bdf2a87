#!/usr/bin/env python3
"""Boot-time benchmark: exec -> first serial byte -> process exit, bhyve-aot against QEMU microvm.

Both VMMs boot the same PVH ELF (native/guest/build/hello.elf) with the same command line, alternately
in one run so that machine noise hits both alike. Reports medians, their ratio, and the peak resident
memory of each VMM process (ru_maxrss from wait4).

usage: bench/startup.py [--runs 20] [--kernel native/guest/build/hello.elf] [--bin out/bhyve-aot] [--no-qemu]
"""
import argparse, os, shutil, statistics, subprocess, sys, time

def measure(argv):
    """Returns (seconds to first stdout byte, seconds to exit, exit status, peak RSS KiB, output)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = proc.stdout.read(1)
    t_first = time.perf_counter() - start
    rest = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    t_exit = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return t_first, t_exit, proc.returncode, usage.ru_maxrss, first + rest

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--kernel", default=os.path.join(root, "native/guest/build/hello.elf"))
    ap.add_argument("--bin", default=os.path.join(root, "out/bhyve-aot"))
    ap.add_argument("--memory", default="64M")
    ap.add_argument("--no-qemu", action="store_true")
    args = ap.parse_args()

    cmdline = "exit=0 bench=startup"
    vmms = {"bhyve-aot": [args.bin, "run", "--kernel", args.kernel, "--memory", args.memory, "--cmdline", cmdline]}
    qemu = shutil.which("qemu-system-x86_64")
    if not args.no_qemu:
        if qemu is None:
            sys.exit("qemu-system-x86_64 not found (apt-get install qemu-system-x86), or pass --no-qemu")
        vmms["qemu-microvm"] = [qemu, "-M", "microvm", "-enable-kvm", "-cpu", "kvm64", "-m", args.memory,
                                "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
                                "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-no-reboot",
                                "-kernel", args.kernel, "-append", cmdline]

    results = {name: [] for name in vmms}
    outputs = {}
    for _ in range(args.runs):
        for name, argv in vmms.items():  # alternate, so drift affects both
            t_first, t_exit, code, rss, out = measure(argv)
            if code != 1:
                sys.exit(f"{name} exited with {code}, expected 1 (guest exit 0)")
            results[name].append((t_first, t_exit, rss))
            outputs[name] = out

    print(f"{args.runs} runs each, kernel {os.path.relpath(args.kernel)}, memory {args.memory}")
    print(f"{'VMM':<14}{'first byte (ms)':>17}{'exit (ms)':>12}{'peak RSS (MiB)':>16}")
    med = {}
    for name, rows in results.items():
        first = statistics.median(r[0] for r in rows) * 1000
        end = statistics.median(r[1] for r in rows) * 1000
        rss = statistics.median(r[2] for r in rows) / 1024
        med[name] = (first, end, rss)
        print(f"{name:<14}{first:>17.1f}{end:>12.1f}{rss:>16.1f}")
    if "qemu-microvm" in med:
        b, q = med["bhyve-aot"], med["qemu-microvm"]
        print(f"ratio bhyve-aot/qemu: first byte {b[0]/q[0]:.2f}x, exit {b[1]/q[1]:.2f}x, RSS {b[2]/q[2]:.2f}x")
        print("same serial output: " + ("yes" if outputs["bhyve-aot"] == outputs["qemu-microvm"] else "NO"))
    print(f"binary: {os.path.getsize(args.bin)} bytes ({os.path.getsize(args.bin)/2**20:.1f} MiB)")

if __name__ == "__main__":
    main()
