#!/usr/bin/env python3
"""Linux boot-time benchmark: the shared Linux 6.12 guest kernel (../shared/linux) on bhyve-aot against QEMU
microvm, same vmlinux, initramfs and command line, alternating in one run so that machine noise hits both alike.

Milestones, counted from the exec of the VMM: the kernel's "Run /init as init process" line, and the first line
/init prints. The initramfs is a static busybox (out/linux/busybox, from `make linux-image`) whose /init prints
one line and powers off (ACPI S5). Reports every run, the medians and the ratio bhyve-aot / QEMU per case, and
with --log DIR keeps every console log with each line's arrival time, to read the two VMMs side by side.

Cases: "1cpu" (1 vCPU, no disk) and "2cpu-blk" (2 vCPUs and a virtio-blk disk). bhyve-aot runs as `run
--cpuid-hide cx16` (README of the kernel) plus, for the "bhyve-aot+notscdl" column, tsc_deadline_timer: QEMU's
kvm64 model offers no TSC-deadline timer, and this kernel's periodic tick on a one-shot-only timer re-runs the
tick in a catch-up loop whenever a tick took longer than its 4 ms period, as every tick does in KVM's emulator.

usage: tests/linux/boot-bench.py [--runs 3] [--cases 1cpu,2cpu-blk] [--vmms bhyve-aot,bhyve-aot+notscdl,qemu]
                                 [--bin out/bhyve-aot] [--log DIR] [--timeout 900]
"""
import argparse, os, statistics, subprocess, sys, tempfile, threading, time

CMDLINE = ("console=ttyS0 panic=-1 noxsave clearcpuid=popcnt,rdrand,rdseed,avx,avx2,avx512f,fsgsbase,invpcid,pcid,"
           "smap,smep,pku,rdpid,erms,fsrm,movbe,bmi1,bmi2 nopti")
INIT = "#!/bin/busybox sh\necho \"INIT: first line\"\n/bin/busybox poweroff -f\n"
RUN_INIT = "Run /init as init process"
FIRST = "INIT: first line"


def newc(entries):
    """A newc cpio archive (what Linux unpacks as an initramfs) of (name, mode, data) entries."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], start=1):
        n = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + n
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def measure(argv, timeout):
    """Runs one boot; returns (seconds to "Run /init", seconds to /init's first line, status, [(t, line)])."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    for raw in proc.stdout:
        lines.append((time.perf_counter() - start, raw.decode(errors="replace").rstrip("\r\n")))
    status = proc.wait()
    timer.cancel()
    at = lambda marker: next((t for t, l in lines if marker in l), None)
    return at(RUN_INIT), at(FIRST), status, lines


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="1cpu,2cpu-blk")
    ap.add_argument("--vmms", default="bhyve-aot,bhyve-aot+notscdl,qemu")
    ap.add_argument("--bin", default=os.path.join(root, "out/bhyve-aot"))
    ap.add_argument("--kernel", default=os.path.join(os.path.dirname(root), "shared/linux/vmlinux"))
    ap.add_argument("--busybox", default=os.path.join(root, "out/linux/busybox"))
    ap.add_argument("--log", help="directory for every run's timestamped console log")
    ap.add_argument("--timeout", type=float, default=900, help="seconds one boot may take before it is killed")
    a = ap.parse_args()
    for path, what in ((a.kernel, "the shared Linux kernel"), (a.busybox, "busybox (make linux-image)"), (a.bin, "bhyve-aot (make publish)")):
        if not os.path.exists(path):
            sys.exit(f"boot-bench: {what} not found at {path}")
    work = tempfile.mkdtemp(prefix="linux-boot-bench-")
    initrd = os.path.join(work, "initrd.cpio")
    with open(a.busybox, "rb") as f:
        busybox = f.read()
    with open(initrd, "wb") as f:
        f.write(newc([("bin", 0o40755, b""), ("dev", 0o40755, b""), ("proc", 0o40755, b""),
                      ("init", 0o100755, INIT.encode()), ("bin/busybox", 0o100755, busybox)]))
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(8 << 20)
    if a.log:
        os.makedirs(a.log, exist_ok=True)

    def argv(vmm, case):
        cpus = 2 if case == "2cpu-blk" else 1
        if vmm.startswith("bhyve-aot"):
            hide = "cx16,tsc_deadline_timer" if vmm.endswith("+notscdl") else "cx16"
            v = [a.bin, "run", "--kernel", a.kernel, "--initrd", initrd, "--memory", "256M", "--cpus", str(cpus),
                 "--cpuid-hide", hide, "--cmdline", CMDLINE]
            return v + (["--disk", f"path={disk}"] if case == "2cpu-blk" else [])
        v = ["qemu-system-x86_64", "-M", "microvm,pcie=on" if case == "2cpu-blk" else "microvm", "-enable-kvm",
             "-cpu", "kvm64,-cx16", "-m", "256M", "-smp", str(cpus), "-nodefaults", "-no-user-config", "-nographic",
             "-serial", "stdio", "-no-reboot", "-kernel", a.kernel, "-initrd", initrd, "-append", CMDLINE]
        if case == "2cpu-blk":
            v += ["-drive", f"file={disk},if=none,id=d0,format=raw", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]
        return v

    vmms, cases = a.vmms.split(","), a.cases.split(",")
    results = {(c, v): [] for c in cases for v in vmms}
    print(f"load average at start: {open('/proc/loadavg').read().split()[0]}; {a.runs} run(s), alternating {', '.join(vmms)}")
    for case in cases:
        for run in range(a.runs):
            for vmm in (vmms if run % 2 == 0 else list(reversed(vmms))):
                t_init, t_first, status, lines = measure(argv(vmm, case), a.timeout)
                results[(case, vmm)].append((t_init, t_first, status))
                fmt = lambda t: f"{t:7.1f} s" if t is not None else "      -  "
                print(f"{case:9} {vmm:18} run {run + 1}: Run /init {fmt(t_init)}  /init's first line {fmt(t_first)}  status {status}", flush=True)
                if a.log:
                    with open(os.path.join(a.log, f"{case}-{vmm}-{run + 1}.log"), "w") as f:
                        f.writelines(f"{t:8.3f} {l}\n" for t, l in lines)
    print()
    print(f"{'case':9} {'VMM':18} {'median Run /init':>17} {'median first line':>18} {'ratio to qemu':>14}")
    for case in cases:
        med = {}
        for vmm in vmms:
            ok = [r for r in results[(case, vmm)] if r[0] is not None and r[1] is not None]
            med[vmm] = (statistics.median(r[0] for r in ok), statistics.median(r[1] for r in ok)) if ok else None
        for vmm in vmms:
            m, q = med[vmm], med.get("qemu")
            ratio = f"{m[1] / q[1]:.2f}" if m and q and vmm != "qemu" else "-"
            print(f"{case:9} {vmm:18} {(f'{m[0]:.1f} s' if m else 'n/a'):>17} {(f'{m[1]:.1f} s' if m else 'n/a'):>18} {ratio:>14}")


if __name__ == "__main__":
    main()
