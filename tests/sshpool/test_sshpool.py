#!/usr/bin/python3
"""Start real OpenSSH/dropbear workers with tests/rig, then run sshpool_rig_test (the sess/ops C
API against them). Usage: test_sshpool.py SSHPOOL_RIG_TEST SSHD_RIG_PY"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (the rig uses mount namespaces)")
        return 0
    prog, rig = sys.argv[1], sys.argv[2]
    base = tempfile.mkdtemp(prefix="adc-sshpool-")
    os.chmod(base, 0o755)
    keys = os.path.join(base, "keys")
    os.mkdir(keys)
    for name, args in (("ed25519", ["-t", "ed25519"]), ("ecdsa", ["-t", "ecdsa", "-b", "256"]),
                       ("rsa", ["-t", "rsa", "-b", "2048"]), ("wrong", ["-t", "ed25519"])):
        subprocess.run(["ssh-keygen", "-q", "-N", "", "-f", os.path.join(keys, name)] + args, check=True)
    authorized = []
    for k in ("ed25519", "ecdsa", "rsa"):
        authorized += ["--authorized-key", os.path.join(keys, k + ".pub")]
    rigs = []
    try:
        n = int(os.environ.get("ADC_SSHPOOL_WORKERS", "50"))
        for d, extra in ((os.path.join(base, "root"), ["-n", str(n), "--dropbear", "1"]),
                         (os.path.join(base, "user"), ["-n", "1", "--user", "adc-rig", "--first-index", "200"])):
            out = subprocess.run([sys.executable, rig, "up", "--dir", d] + extra + authorized,
                                 check=True, stdout=subprocess.PIPE).stdout
            rigs.append(d)
            with open(os.path.join(d, "desc.json"), "w") as f:
                f.write(out.decode())
        r = subprocess.run([prog, rig, keys, rigs[0], rigs[1]])
        return r.returncode
    finally:
        for d in rigs:
            subprocess.run([sys.executable, rig, "down", "--dir", d], stdout=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
