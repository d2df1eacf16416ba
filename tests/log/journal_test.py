#!/usr/bin/python3
"""journal_test.py - native journald fields, checked against a real, private journald.

Runs itself again under `unshare -m --propagation private` (as testing.md section 7 shows):
a private tmpfs on /run, systemd-journald with Storage=volatile and ReadKMsg=no, then the
log_journal_emit helper (plain and inside the sshd-pool sandbox), then
`journalctl -D /run/log/journal -o json CONTAINER_UUID=<uuid>`. Then one entry too large for
a datagram from inside each helper's sandbox (sshd-pool's and cloudd's): libsystemd passes it
in a sealed memfd, which their seccomp filters must allow (the helper used to be killed with
SIGSYS); the entry must arrive whole. And once more as a helper runs in production, its own
policy over the parent's (which refuses the memfd with EPERM): the entry must arrive with
its long field cut, not on stderr. Missing root, unshare or
journald is a failure, never a skip: this test is the only proof of the journald sink.

usage: journal_test.py /path/to/log_journal_emit
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

JOURNALD = "/lib/systemd/systemd-journald"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def outer(helper):
    if os.geteuid() != 0:
        fail("needs root (to unshare a mount namespace and run journald)")
    if shutil.which("unshare") is None:
        fail("unshare(1) not found (util-linux)")
    if not os.access(JOURNALD, os.X_OK) or shutil.which("journalctl") is None:
        fail(JOURNALD + " or journalctl missing (install the systemd package: scripts/install-deps.sh)")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                        os.path.abspath(__file__), "--inner", helper])
    sys.exit(r.returncode)


def start_journald():
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    for d in ("/run/systemd/journal", "/run/systemd/journald.conf.d", "/run/log/journal"):
        os.makedirs(d, exist_ok=True)
    with open("/run/systemd/journald.conf.d/test.conf", "w") as f:
        f.write("[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitBurst=0\n")
    jd = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if os.path.exists("/run/systemd/journal/socket"):
            return jd
        if jd.poll() is not None:
            fail("journald exited with %d" % jd.returncode)
        time.sleep(0.01)
    jd.kill()
    fail("journald socket never appeared")


def emit(helper, uuid, *extra):
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    r = subprocess.run([helper, uuid] + list(extra), env=env, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        fail("%s %s %s exited %d (negative: killed by that signal; -31 is seccomp's SIGSYS): %s"
             % (helper, uuid, " ".join(extra), r.returncode, r.stderr))
    # journal output replaces stderr, it does not duplicate it
    if r.stderr != "":
        fail("entry was also written to stderr: %r" % r.stderr)


def oversized_body():
    """Bytes that cannot go in one datagram. libsystemd asks SO_SNDBUF for 8 MiB, which the
    kernel caps at net.core.wmem_max and doubles; SO_SNDBUFFORCE is refused to the sandbox's
    user, so sendmsg gives EMSGSIZE beyond that and libsystemd falls back to a memfd."""
    with open("/proc/sys/net/core/wmem_max") as f:
        wmem_max = int(f.read())
    return 2 * min(8 << 20, wmem_max) + (64 << 10)


def entries(uuid):
    # -a: fields over 4 kB are shown, not replaced by null
    r = subprocess.run(["journalctl", "-D", "/run/log/journal", "--no-pager", "-a", "-o", "json",
                        "CONTAINER_UUID=" + uuid], capture_output=True, text=True, timeout=60)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def check(uuid, pid_expected_user=None, body_len=None, cut=False):
    for _ in range(200):
        got = entries(uuid)
        if got:
            break
        time.sleep(0.02)
    if len(got) != 1:
        fail("expected 1 entry for %s, got %d" % (uuid, len(got)))
    e = got[0]
    want = {
        "MESSAGE": "instance unresponsive, shutting down: timeout",
        "PRIORITY": "4",
        "SYSLOG_IDENTIFIER": "arvados-dispatch-cloud",
        "ADC_PROCESS": "cloudd",
        "CONTAINER_UUID": uuid,
        "INSTANCE_ID": "i-0123456789",
        "INSTANCE_TYPE": "m5.large",
        "WORKER_STATE": "booting",
        "ADC_RUNNINGCONTAINERS": "3",
        "ADC_IDLEBEHAVIOR": "run",
        "ADC_CLUSTERID": "zzzzz",
        "ADC_ERROR": "timeout",
    }
    for k, v in want.items():
        if e.get(k) != v:
            fail("%s: field %s = %r, want %r" % (uuid, k, e.get(k), v))
    if cut:
        # log_journal.c: the field "ADC_BODY=bbb..." cut to 32 KiB, then the marker
        m = re.fullmatch(r"(b+) \[\.\.\. ([0-9]+) bytes cut\]", str(e.get("ADC_BODY")))
        if m is None or len("ADC_BODY=") + len(m.group(1)) != 32 * 1024 or \
                len(m.group(1)) + int(m.group(2)) != body_len:
            fail("%s: ADC_BODY is not the %d bytes cut to 32 KiB: %.80r..." % (
                uuid, body_len, e.get("ADC_BODY")))
    elif body_len is not None and (not isinstance(e.get("ADC_BODY"), str) or
                                   e["ADC_BODY"] != "b" * body_len):
        fail("%s: ADC_BODY is not the %d bytes sent (got %s)" % (
            uuid, body_len, len(e["ADC_BODY"]) if isinstance(e.get("ADC_BODY"), str)
            else repr(e.get("ADC_BODY"))))
    if pid_expected_user is not None and e.get("_UID") != pid_expected_user:
        fail("%s: _UID %r, want %r (sandbox user)" % (uuid, e.get("_UID"), pid_expected_user))


def inner(helper):
    jd = start_journald()
    try:
        emit(helper, "zzzzz-dz642-journaltest0001")
        emit(helper, "zzzzz-dz642-journaltest0002", "sandbox")
        big = oversized_body()
        emit(helper, "zzzzz-dz642-journaltest0003", "sandbox", str(big))
        emit(helper, "zzzzz-dz642-journaltest0004", "sandbox-cloudd", str(big))
        emit(helper, "zzzzz-dz642-journaltest0005", "sandbox-under-parent", str(big))
        subprocess.run(["journalctl", "--sync"], timeout=60)
        check("zzzzz-dz642-journaltest0001")
        check("zzzzz-dz642-journaltest0002", str(65534))
        check("zzzzz-dz642-journaltest0003", str(65534), big)
        check("zzzzz-dz642-journaltest0004", str(65534), big)
        check("zzzzz-dz642-journaltest0005", str(65534), big, cut=True)
    finally:
        jd.terminate()
        jd.wait()
    print("journal_test: OK")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
    elif len(sys.argv) == 2:
        outer(sys.argv[1])
    else:
        fail("usage: journal_test.py /path/to/log_journal_emit")
