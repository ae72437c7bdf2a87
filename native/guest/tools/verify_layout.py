#!/usr/bin/env python3
"""Checks a disk image against blk-selftest's or nvme-selftest's `layout:` / `zero:` lines.
usage: verify_layout.py <guest-output> <disk-image>"""
import sys
def pat(o, k):
    return ((o * 7 + (o >> 9) * 13 + k * 29) ^ 0xA5) & 0xFF
out, img = sys.argv[1], sys.argv[2]
data = open(img, 'rb').read()
bad = checked = 0
for line in open(out, errors='replace'):
    f = line.split()
    if not f or f[0] not in ('layout:', 'zero:'):
        continue
    off, ln = int(f[1]), int(f[2])
    k = int(f[3]) if f[0] == 'layout:' else None
    want = bytes(0 if k is None else pat(o, k) for o in range(off, off + ln))
    got = data[off:off + ln]
    checked += ln
    if got != want:
        i = next(i for i in range(ln) if i >= len(got) or got[i] != want[i])
        print(f"MISMATCH {line.strip()}: first bad byte at {off+i}")
        bad += 1
print(f"verify_layout: {checked} bytes checked, {bad} bad regions")
sys.exit(1 if bad else 0)
