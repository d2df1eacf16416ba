#!/usr/bin/python3
"""test_repeat.py - run the ctest suite N times in a row under CPU load, and say which tests
failed how often (make test-repeat; issue 18).

While the runs go on, stress-ng keeps every core busy (one CPU worker per online CPU), so that
a test assuming timing shows itself in a few dozen runs instead of once a month. Each run's
ctest output is kept in <build-dir>/test-repeat/run-NN.log. The exit status is 0 only when
every run passed.

    scripts/test_repeat.py [--repeat N] [--build-dir build-test] [--jobs J] [--no-stress]
                           [--lock FILE] [-- ctest arguments, e.g. -R '^test_proto' or -LE fuzz]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "support"))
from machine_lock import machine_lock  # noqa: E402

# ctest's summary: "The following tests FAILED:" then lines like
#   "\t 69 - test_proto_chan (Failed)" or "\t 12 - sshglue (Timeout)"
FAILED_HEADER = "The following tests FAILED:"
FAILED_LINE = re.compile(r"^\s*\d+\s+-\s+(\S+)\s+\((.+)\)\s*$")
SUMMARY_LINE = re.compile(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)")


def parse_failures(text):
    """[(test, kind)] from a ctest output; None when ctest printed no summary at all."""
    failures = []
    in_list = False
    for line in text.splitlines():
        if line.startswith(FAILED_HEADER):
            in_list = True
            continue
        if in_list:
            m = FAILED_LINE.match(line)
            if m:
                failures.append((m.group(1), m.group(2)))
            elif line.strip():
                in_list = False
    if not failures and not SUMMARY_LINE.search(text):
        return None
    return failures


def start_stress(ncpu):
    exe = shutil.which("stress-ng")
    if exe is None:
        sys.exit("test_repeat: stress-ng is not installed (scripts/install-deps.sh installs it); "
                 "use --no-stress to run without load")
    # Its own session, so that it and its workers are stopped together (and only them).
    p = subprocess.Popen([exe, "--cpu", str(ncpu), "--cpu-method", "all", "--quiet",
                          "--timeout", "0"], stdout=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1)
    if p.poll() is not None:
        sys.exit(f"test_repeat: stress-ng exited at once (status {p.returncode})")
    return p


def stop_stress(p):
    if p is None or p.poll() is not None:
        return
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def run_once(build_dir, jobs, ctest_args, log_path, lock_path, stress_cpus):
    """One ctest run; the load (stress_cpus > 0) runs only while the tests do, never while
    waiting for the lock."""
    cmd = ["ctest", "--output-on-failure", "-j", str(jobs)] + ctest_args
    lock = machine_lock(lock_path) if lock_path else None
    stress = None
    if lock is not None:
        lock.acquire()
    try:
        if stress_cpus > 0:
            stress = start_stress(stress_cpus)
        t0 = time.monotonic()
        r = subprocess.run(cmd, cwd=build_dir, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        secs = time.monotonic() - t0
    finally:
        stop_stress(stress)
        if lock is not None:
            lock.release()
    with open(log_path, "w") as f:
        f.write(r.stdout)
    failures = parse_failures(r.stdout)
    if failures is None:
        what = "no test matched" if "No tests were found" in r.stdout else "no summary"
        failures = [("<ctest>", f"{what}, exit status {r.returncode}")]
    elif r.returncode != 0 and not failures:
        failures = [("<ctest>", f"exit status {r.returncode} with every test passed")]
    return failures, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20, help="runs (default 20)")
    ap.add_argument("--build-dir", default="build-test", help="the ctest build tree")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="ctest -j")
    ap.add_argument("--no-stress", action="store_true", help="no stress-ng load")
    ap.add_argument("--stress-cpus", type=int, default=os.cpu_count() or 2,
                    help="stress-ng CPU workers (default: one per online CPU)")
    ap.add_argument("--lock", help="flock this file around each run, load included "
                    "(e.g. /tmp/adc-rig.lock)")
    ap.add_argument("ctest_args", nargs="*", help="passed to ctest after --")
    a = ap.parse_args()
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    if not os.path.isfile(os.path.join(a.build_dir, "CTestTestfile.cmake")):
        sys.exit(f"test_repeat: {a.build_dir} is not a configured ctest tree (make build-test)")
    logdir = os.path.join(a.build_dir, "test-repeat")
    os.makedirs(logdir, exist_ok=True)

    stress_cpus = 0 if a.no_stress else a.stress_cpus
    if stress_cpus > 0 and shutil.which("stress-ng") is None:
        sys.exit("test_repeat: stress-ng is not installed (scripts/install-deps.sh installs it); "
                 "use --no-stress to run without load")
    load = "no load" if stress_cpus == 0 else f"stress-ng --cpu {stress_cpus}"
    print(f"test_repeat: {a.repeat} runs of ctest -j {a.jobs} {' '.join(a.ctest_args)} "
          f"under {load}; logs in {logdir}/", flush=True)
    counts = {}  # test -> {kind: n}
    where = {}  # test -> [run numbers]
    ran = passes = streak = best = 0
    try:
        for i in range(1, a.repeat + 1):
            log = os.path.join(logdir, f"run-{i:02d}.log")
            failures, secs = run_once(a.build_dir, a.jobs, a.ctest_args, log, a.lock, stress_cpus)
            ran += 1
            if failures:
                streak = 0
                names = ", ".join(f"{t} ({k})" for t, k in failures)
                print(f"run {i}/{a.repeat}: FAILED in {secs:.0f} s: {names}  [{log}]", flush=True)
            else:
                passes += 1
                streak += 1
                best = max(best, streak)
                print(f"run {i}/{a.repeat}: passed in {secs:.0f} s", flush=True)
            for t, k in failures:
                counts.setdefault(t, {}).setdefault(k, 0)
                counts[t][k] += 1
                where.setdefault(t, []).append(i)
    except KeyboardInterrupt:
        print("test_repeat: interrupted", flush=True)

    print()
    print(f"test_repeat: {passes}/{ran} runs passed; longest run of consecutive passes: {best}; "
          f"under {load}")
    if counts:
        print("failures (test: times failed / runs, how, in which runs):")
        for t in sorted(counts, key=lambda t: (-sum(counts[t].values()), t)):
            n = sum(counts[t].values())
            how = ", ".join(f"{k} x{v}" for k, v in sorted(counts[t].items()))
            runs = " ".join(str(r) for r in where[t])
            print(f"  {t}: {n}/{ran} ({how}) runs {runs}")
    return 0 if passes == ran and ran == a.repeat else 1


if __name__ == "__main__":
    sys.exit(main())
