"""free_ports.py - the one way a test or bench picks a TCP port for a server that binds it later
(a dispatcher's management port, a rig worker's sshd, a fake's per-instance metadata listener).
Standard library only; /usr/bin/python3.

A port found free by bind(0) and closed is free only until somebody else binds it, and two
kinds of somebody did, seconds later, when the server came to bind it:
  * the kernel: bind(0) and connect() of every other process on the machine draw their ports
    from the ephemeral range (net.ipv4.ip_local_port_range), the very range bind(0) picked
    from. A listener on 0.0.0.0 there also answers on every rig address, so a probe of "is my
    worker's sshd up" connected to it and said yes while the sshd had failed to bind.
  * another pick: an e2e scenario picked its workers' SSH port and its fake's metadata port
    on one rig address block, each with bind(0) on a different address; nothing kept the two
    apart, and when they came out equal (about 1 in 7,000 here) the metadata listener, which
    binds first, took the port on the worker's address and every sshd of that worker died with
    exit 255 (issue 18: e2e_azure test_spot_preempt_event_drains).

So a port comes from below the ephemeral range, where the kernel never hands out a port by
itself, and is reserved machine-wide while the picking process lives: an flock on
RESERVE_DIR/<port>, kept open (released by the kernel when the process ends, however it
ends), so no two live pickers, in one test run or in two, ever get the same port.
"""
import fcntl
import os
import random
import socket
import tempfile

# Under /tmp, not /run: e2e_journal runs its dispatcher with a private tmpfs on /run.
RESERVE_DIR = os.path.join(tempfile.gettempdir(), "adc-ports")
# Not below 20000: fixed ports of services a test machine may run (PostgreSQL 5432, 8080, ...).
LOW = 20000
_held = {}  # port -> fd of its reservation, for this process's life


def ephemeral_range():
    """(first, last) of the kernel's ephemeral ports."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            first, last = (int(x) for x in f.read().split())
        return first, last
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def candidate_ports():
    """The ports picks are made from: below the ephemeral range, or above it when the range
    starts too low to leave room (an operator's tuned machine); empty when neither has 1,000."""
    first, last = ephemeral_range()
    if first - LOW >= 1000:
        return range(LOW, first)
    if 65535 - last >= 1000:
        return range(last + 1, 65536)
    return range(0)


def _bindable(addr, port):
    # Without SO_REUSEADDR: also refused while anything is bound to the port on 0.0.0.0, or a
    # closed connection of it lingers in TIME_WAIT.
    s = socket.socket()
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _reserve(port):
    if not os.path.isdir(RESERVE_DIR):
        os.makedirs(RESERVE_DIR, exist_ok=True)
        try:
            os.chmod(RESERVE_DIR, 0o1777)  # pickers run as root and as the helpers' users
        except OSError:
            pass
    path = os.path.join(RESERVE_DIR, str(port))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _held[port] = fd
    return True


def free_port(addr="127.0.0.1", reserve=True):
    """A port nothing is bound to on addr now, that no other live process has picked and the
    kernel will not hand out meanwhile. Falls back to the kernel's bind(0) (with the race this
    module exists to avoid) only on a machine whose ephemeral range leaves no room.
    reserve=False: no reservation (no file descriptor held), for an address that is the
    caller's alone (a rig worker's, in the rig's leased block) and callers that pick thousands."""
    ports = candidate_ports()
    for _ in range(200):
        if not ports:
            break
        p = random.choice(ports)
        if p in _held or (reserve and not _reserve(p)):
            continue
        if _bindable(addr, p):
            return p
        release(p)  # bound by somebody that does not reserve (a fixed port): leave it to them
    s = socket.socket()
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def release(port):
    """Give a reservation back before the process ends (a long-lived picker, or a port found
    busy)."""
    fd = _held.pop(port, None)
    if fd is not None:
        os.close(fd)
