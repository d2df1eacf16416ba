#!/usr/bin/python3
"""check_wipe.py SRCDIR - fail on a buffer cleared with memset(p, 0, ...) right before free(p):
a dead store the compiler may remove, so a secret would stay in freed memory. Such buffers are
wiped with adc_wipe (common/util.h, mbedtls_platform_zeroize), which is never optimised away."""
import os
import re
import sys

MEMSET = re.compile(r"\bmemset\s*\(\s*([^,]+?)\s*,\s*0\s*,")
FREE = re.compile(r"\bfree\s*\(\s*(.+?)\s*\)\s*;")


def main():
    root = sys.argv[1]
    bad = []
    for d in ("cloudd", "common", "dispatcherd", "proto", "sshd-pool"):
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for name in files:
                if not name.endswith(".c"):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    lines = f.readlines()
                for i, line in enumerate(lines[:-1]):
                    m = MEMSET.search(line)
                    if not m:
                        continue
                    # the next statement (skipping blank lines and comments)
                    for nxt in lines[i + 1:i + 4]:
                        s = nxt.strip()
                        if not s or s.startswith(("/*", "*", "//")):
                            continue
                        f2 = FREE.search(s)
                        if f2 and f2.group(1) == m.group(1):
                            bad.append("%s:%d: memset(%s, 0, ...) then free(%s): use adc_wipe"
                                       % (os.path.relpath(path, root), i + 1, m.group(1), m.group(1)))
                        break
    for b in bad:
        print(b)
    print("%d dead-store clear(s) before free" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
