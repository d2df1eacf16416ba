"""system_users.py - system users the tests need, created once per machine, safely when several
tests (or several test runs) ask at the same time. Standard library only; /usr/bin/python3.

Users are the one resource of the rig tests that is truly global (rig workers, ports and
directories are per run: tests/rig/README.md). Two `useradd` runs for one name race (the
second fails with "already exists", or cannot lock /etc/passwd), so the check and the creation
are done under one flock, USERS_LOCK. tests/sandbox/test_sandbox.c takes the same lock with
flock(1): keep the path in step."""
import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_lock import machine_lock  # noqa: E402

USERS_LOCK = "/tmp/adc-test-users.lock"


def users_lock():
    """`with users_lock():` no other test creates or changes a user meanwhile (tests/packaging
    holds it while the package's sysusers.d file makes the helpers' users)."""
    return machine_lock(USERS_LOCK)


def _run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.decode(errors="replace")))


def ensure_system_user(name):
    """A system user with no home and no login shell (the helpers' users, as the package's
    sysusers.d file makes them). Returns its pwd entry."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    with users_lock():
        try:
            return pwd.getpwnam(name)
        except KeyError:
            _run(["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                  name])
    return pwd.getpwnam(name)


def ensure_login_user(name):
    """An unprivileged user with a home and bash who can log in with a key: its password is '*'
    rather than useradd's '!', since both sshd without PAM and dropbear refuse accounts locked
    with '!'. Returns its pwd entry."""
    if _password(name) == "*":
        return pwd.getpwnam(name)
    with users_lock():
        try:
            pwd.getpwnam(name)
        except KeyError:
            _run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name])
        _run(["usermod", "-p", "*", name])
    return pwd.getpwnam(name)


def _password(name):
    """The user's password field in /etc/shadow, or None (no such user)."""
    with open("/etc/shadow") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == name and len(fields) > 1:
                return fields[1]
    return None
