"""machine_lock.py - an flock on a path under /tmp, for a resource that is one per machine
(system users, the installed package), held by whichever test of whichever test run on the
machine asks first. Under /tmp, not /run: e2e_journal runs its dispatcher with a private tmpfs
on /run. ctest's RESOURCE_LOCK covers one ctest run only. Standard library only."""
import fcntl
import os


class machine_lock:
    """`with machine_lock(path):` nobody else holds the lock on path meanwhile."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
