#!/usr/bin/python3
"""demo.py - start arvados-dispatch-cloud on a generated example config and show its three
processes, each with its sandbox. Ctrl-C (or DEMO_SECONDS=N) stops it cleanly.

What it shows today: the parent and its two helpers up, sandboxed, and holding their
secrets apart. The local cluster (fake API server, loopback cloud, real sshd workers,
containers running to completion) joins this demo as those parts land (docs/ROADMAP.md).
"""
import os
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "process"))
os.environ.setdefault("ADC_BIN_DIR", os.path.join(ROOT, "build", "bin"))
import adc_harness as h  # noqa: E402


def show(pid, role):
    st = h.proc_status(pid)
    uid = int(st["Uid"].split()[0])
    try:
        user = subprocess.check_output(["id", "-nu", str(uid)], text=True).strip()
    except subprocess.CalledProcessError:
        user = str(uid)
    print("  %-22s pid %-7d name %-16s user %-18s NoNewPrivs %s  Seccomp %s" % (
        role, pid, h.proc_comm(pid), user, st["NoNewPrivs"].strip(), st["Seccomp"].strip()))


def main():
    h.ensure_role_users()
    d_dir = h.tmpdir()
    _, key = h.make_key(d_dir, "ed25519")
    config, _ = h.write_config(d_dir, key_text=key)
    print("demo: config written to %s" % config)
    print("demo: starting %s/arvados-dispatch-cloud -config %s" % (h.BIN_DIR, config))
    d = h.Dispatcher(config)
    try:
        d.wait_ready(60)
    except AssertionError as e:
        print(e)
        d.stop(signal.SIGKILL)
        return 1
    pids = d.helper_pids()
    print("\ndemo: the dispatcher is up; its processes:")
    show(d.proc.pid, "dispatcherd (parent)")
    show(pids["cloudd"], "cloudd (cloud creds)")
    show(pids["sshd-pool"], "sshd-pool (SSH key)")
    print("\ndemo: log so far:")
    for e in d.lines:
        print("  %s %-5s %s" % (e.get("time", "")[11:23], e.get("level", ""), e.get("msg")))
    secs = float(os.environ.get("DEMO_SECONDS", "0"))
    print("\ndemo: running; %s" % ("stopping in %g s" % secs if secs else "Ctrl-C to stop"))
    try:
        if secs:
            time.sleep(secs)
        else:
            d.proc.wait()
    except KeyboardInterrupt:
        pass
    rc = d.stop(signal.SIGTERM)
    print("demo: dispatcher exited with status %d" % rc)
    shutil.rmtree(d_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
