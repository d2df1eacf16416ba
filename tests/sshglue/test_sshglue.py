#!/usr/bin/python3
"""Start two OpenSSH workers with tests/rig, then run sshglue_test: the real sshd-pool binary
(sandbox on) supervised by dispatcherd/helpers/child.c and driven through dispatcherd/helpers/sshc.
Usage: test_sshglue.py SSHGLUE_TEST SSHD_POOL SSHD_RIG_PY RUNNER"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import system_users  # noqa: E402

POOL_USER = "arvados-sshd-pool"   # sshd-pool's default user (docs/SANDBOX.md)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (the rig uses mount namespaces)")
        return 0
    prog, pool, rig, runner = sys.argv[1:5]
    system_users.ensure_system_user(POOL_USER)
    base = tempfile.mkdtemp(prefix="adc-sshglue-")
    os.chmod(base, 0o755)
    key = os.path.join(base, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", key], check=True)
    d = os.path.join(base, "rig")
    up = False
    try:
        # The rig leases an address block of its own (tests/rig/README.md): other rig tests
        # may run at the same time.
        out = subprocess.run([sys.executable, rig, "up", "--dir", d, "-n", "2", "--first-index", "240",
                              "--authorized-key", key + ".pub"], check=True, stdout=subprocess.PIPE).stdout
        up = True
        with open(os.path.join(d, "desc.json"), "wb") as f:
            f.write(out)
        env = dict(os.environ, SSHD_RIG_PY=rig)
        return subprocess.run([prog, pool, d, key, runner], env=env).returncode
    finally:
        if up:
            subprocess.run([sys.executable, rig, "down", "--dir", d], stdout=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
