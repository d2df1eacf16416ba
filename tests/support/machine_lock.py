"""machine_lock.py - an flock on a path under /tmp, for a resource that is one per machine
(system users, the installed package), held by whichever test of whichever test run on the
machine asks first. Under /tmp, not /run: e2e_journal runs its dispatcher with a private tmpfs
on /run. ctest's RESOURCE_LOCK covers one ctest run only. Standard library only."""
import fcntl
import os

# The machine's /var/lock, as the loopback instance's crunch-run uses it. A dispatcher whose
# loopback instance runs the demo crunch-run lists every crunch-run-<uuid>.lock there in its
# probe, and kills a container of its cluster (zzzzz) that it does not have in its queue
# ("not in queue", spec 4.4). Two such dispatchers at once (make demo's cluster in demo_once
# and packaging_dashboard, the installed package's in packaging_deb; in one test run or in
# two) kill each other's containers: each holds this lock from its start to its stop.
LOOPBACK_LOCK = "/tmp/adc-loopback-dispatcher.lock"


class machine_lock:
    """`with machine_lock(path):` nobody else holds the lock on path meanwhile (or acquire()
    and release(), for a lock that lives as long as an object)."""

    def __init__(self, path, waiting=None):
        """waiting(): called once if the lock is held by somebody else, before waiting."""
        self.path, self.waiting, self.fd = path, waiting, None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    def acquire(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if self.waiting is not None:
                self.waiting()
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
