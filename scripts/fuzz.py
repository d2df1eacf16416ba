#!/usr/bin/python3
"""fuzz.py - run every libFuzzer target for a set time and print what each did (make fuzz;
issue 12).

The targets and their seed directories come from the manifest the build writes,
<build-dir>/fuzz/targets.tsv (cmake/helpers.cmake, adc_fuzz_target). Each target runs in turn,
one process (the machine is shared), with:

  - a working corpus outside the source tree, <build-dir>/corpus/<target>/, that libFuzzer
    grows and that later runs start from;
  - the checked-in seeds (the target's CORPUS directory) and its regression inputs
    (tests/fuzz/regress/<target>/, replayed first), read but never written;
  - crash, leak, timeout and out-of-memory inputs written to <build-dir>/artifacts/<target>/;
  - its whole output in <build-dir>/fuzz-logs/<target>.log.

Then one table: target, seconds, executions, exec/s, cov and ft (libFuzzer's edge and feature
coverage from its last status line), corpus size, and the artefact of a crash. The exit
status is 1 if any target crashed (or failed to run), naming the artefact to reproduce with:
<build-dir>/fuzz/<target> <artefact>. A crash found is fixed in the product and its input is
copied into tests/fuzz/regress/<target>/ (tests/fuzz/README.md), so that the ctest fuzz test
and every later `make fuzz` replay it.

    scripts/fuzz.py [--build-dir build-fuzz] [--seconds 60] [--only REGEX] [--markdown]
"""
import argparse
import os
import re
import subprocess
import sys
import time

STATUS = re.compile(r"^#(\d+)\s+(?:INITED|NEW|REDUCE|pulse|DONE|RELOAD)\b.*?\bcov: (\d+) ft: (\d+)"
                    r"(?: corp: (\d+)/)?")
FINAL = re.compile(r"^stat::(\w+):\s+(\d+)")
ARTEFACT = re.compile(r"Test unit written to (\S+)")


def run_target(name, binary, seeds, build_dir, seconds):
    corpus = os.path.join(build_dir, "corpus", name)
    artefacts = os.path.join(build_dir, "artifacts", name)
    logs = os.path.join(build_dir, "fuzz-logs")
    for d in (corpus, artefacts, logs):
        os.makedirs(d, exist_ok=True)
    cmd = [binary, "-max_total_time=%d" % seconds, "-timeout=10", "-rss_limit_mb=2048",
           "-print_final_stats=1", "-artifact_prefix=" + artefacts + "/", corpus]
    cmd += [s for s in seeds if os.path.isdir(s)]
    log_path = os.path.join(logs, name + ".log")
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.monotonic() - t0
    row = {"target": name, "seconds": wall, "execs": None, "rate": None, "cov": None,
           "ft": None, "corp": None, "crash": "", "rc": rc, "log": log_path}
    with open(log_path, errors="replace") as log:
        for line in log:
            m = STATUS.match(line)
            if m:
                row["execs"], row["cov"], row["ft"] = int(m[1]), int(m[2]), int(m[3])
                if m[4]:
                    row["corp"] = int(m[4])
            m = FINAL.match(line)
            if m and m[1] == "number_of_executed_units":
                row["execs"] = int(m[2])
            elif m and m[1] == "average_exec_per_sec":
                row["rate"] = int(m[2])
            m = ARTEFACT.search(line)
            if m:
                row["crash"] = m[1]
    if rc != 0 and not row["crash"]:
        row["crash"] = "exit status %d, see %s" % (rc, log_path)
    if row["rate"] is None and row["execs"] is not None and wall > 0:
        row["rate"] = int(row["execs"] / wall)
    return row


def fmt(v):
    return "-" if v is None else str(v)


def print_table(rows, markdown):
    head = ["target", "seconds", "executions", "exec/s", "cov", "ft", "corpus", "crash"]
    body = [[r["target"], "%.0f" % r["seconds"], fmt(r["execs"]), fmt(r["rate"]), fmt(r["cov"]),
             fmt(r["ft"]), fmt(r["corp"]), r["crash"] or "none"] for r in rows]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for b in body:
            print("| " + " | ".join(b) + " |")
        return
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    for b in [head] + body:
        print("  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build-fuzz")
    ap.add_argument("--seconds", type=int, default=60, help="per target (libFuzzer -max_total_time)")
    ap.add_argument("--only", default="", help="run only targets whose name matches this regex")
    ap.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    a = ap.parse_args()
    manifest = os.path.join(a.build_dir, "fuzz", "targets.tsv")
    try:
        with open(manifest) as f:
            targets = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError as e:
        sys.exit("fuzz.py: %s (configure the build with -DADC_FUZZ=ON first)" % e)
    targets = [t for t in targets if re.search(a.only, t[0])]
    if not targets:
        sys.exit("fuzz.py: no target matches")
    rows = []
    for t in targets:
        print("fuzz.py: %s for %d s" % (t[0], a.seconds), file=sys.stderr, flush=True)
        rows.append(run_target(t[0], t[1], t[2:], a.build_dir, a.seconds))
    print_table(rows, a.markdown)
    bad = [r for r in rows if r["crash"]]
    total = sum(r["execs"] or 0 for r in rows)
    print("%d targets, %d executions, %d crashed" % (len(rows), total, len(bad)))
    for r in bad:
        print("CRASH %s: %s (reproduce: %s/fuzz/%s <artefact>; log %s)" %
              (r["target"], r["crash"], a.build_dir, r["target"], r["log"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
