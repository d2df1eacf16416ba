#!/usr/bin/python3
"""sshd_rig: fake Arvados worker VMs served by real SSH servers on loopback (see README.md).

Each worker is a real `/usr/sbin/sshd -D` (or `dropbear -F`) listening on 127.0.1.<i>:<port>
(from worker 251 on, the next /24s: see rig_address),
started inside its own mount namespace (`unshare -m --propagation private`) where bind mounts
give it a private view of the fixed paths the dispatcher uses:

    <worker dir>/run     -> /run   (so /var/run/arvados-instance-secret, /var/lock = /run/lock,
                                    and sshd's privilege separation dir /run/sshd are per worker)
    <worker dir>/bin     -> /usr/local/sbin and /usr/local/bin (first on the default PATH of
                                    OpenSSH and dropbear: `crunch-run` stub and a `sudo` shim)
    <worker dir>/home    -> the remote user's home (authorized_keys for dropbear, and no
                                    ~/.bashrc of the host's root, which bash would source)
    <worker dir>/deploy  -> /tmp/arvados-crunch-run (DeployRunnerDirectory default)

Commands run by the real login shell of the user (no ForceCommand). The session environment
carries ADC_WORKER_ID and ADC_WORKER_DIR: OpenSSH via SetEnv, dropbear (which has no SetEnv)
via `-e`, which passes the server's own environment, which the rig sets.

Must run as root (mount namespaces, sshd as root). Standard library only.
"""
import argparse
import fcntl
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import free_ports  # noqa: E402
import system_users  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "stub-crunch-run")
SSHD = "/usr/sbin/sshd"
DROPBEAR = "/usr/sbin/dropbear"
DEFAULT_PRIVATE_DIRS = ("/tmp/arvados-crunch-run",)
RSA_CACHE = os.path.join(tempfile.gettempdir(), "adc-sshd-rig-rsa-cache")
# Address blocks leased by running rigs (rig_lease_net). Under /tmp, not /run: e2e_journal runs
# its rig with a private tmpfs on /run. 127.0.x.x is left to fixed test addresses (fake_ec2's and
# fake_azure's defaults), 127.8 and 127.16 to cloudglue and the EC2 bench.
NET_LEASE_DIR = os.path.join(tempfile.gettempdir(), "adc-rig-nets")
NET_LEASE_RANGE = range(100, 200)

SUDO_SHIM = """#!/bin/sh
# sudo shim of the SSH test rig: runs the command as is (no privilege change).
while [ $# -gt 0 ]; do
	case "$1" in
	--) shift; break ;;
	-n|-E|-H|-S) shift ;;
	-u|-g) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
# Logged where the remote user can write (the stub's state dir), for tests that check sudo use.
if [ -n "$ADC_WORKER_DIR" ]; then printf '%s\\n' "$*" >>"$ADC_WORKER_DIR/crunch-run/sudo.log"; fi
exec "$@"
"""

# poweroff shim of the rig: a VM powering itself off. It only records the moment in the worker
# dir (<W>/powered-off); the rig's user plays the hypervisor (tests/e2e/e2e_env.py's watcher
# tells the fake cloud of a guest shutdown and powers the worker off). It shadows the host's
# poweroff only inside a worker's namespace, where /usr/local/sbin is <W>/bin; and there the
# host's would not reach systemd anyway (/run, where its sockets are, is the worker's).
POWEROFF_SHIM = """#!/bin/sh
d=$(cat /run/adc-rig-worker-dir) || exit 1
date +%s.%N >"$d/powered-off.tmp" && mv -f "$d/powered-off.tmp" "$d/powered-off"
"""

# Inside the namespace: bind the worker's directories over the fixed paths, then exec the server.
# Arguments: pairs "source target" up to "--", then the server command line.
LAUNCH = """set -e
while [ "$1" != "--" ]; do mount --bind "$1" "$2"; shift 2; done
shift
exec "$@"
"""


class RigError(Exception):
    pass


def _run(argv, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if p.returncode != 0:
        raise RigError("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def rig_ensure_user(name):
    """Create an unprivileged login user if missing (tests/support/system_users.py: once per
    machine, under a lock, since other rigs may be creating it at the same moment)."""
    try:
        return system_users.ensure_login_user(name)
    except RuntimeError as e:
        raise RigError(str(e))


def rig_lease_net():
    """A block of loopback addresses that no other running rig uses: 127.<n>.0.0/16 with n in
    NET_LEASE_RANGE. Returns (prefix, fd): workers are <prefix><i> with prefix "127.<n>.1."
    (rig_address grows into 127.<n>.2. and on). The lease is an flock on NET_LEASE_DIR/<n>,
    held while fd is open, so it ends with the process that holds it, however it ends: two
    rigs, in one test run or in two runs on the machine, never pick a port on the same address
    (the kernel's free port on an address is free only on that address, until sshd binds it)."""
    os.makedirs(NET_LEASE_DIR, exist_ok=True)
    ns = list(NET_LEASE_RANGE)
    random.shuffle(ns)  # rigs starting together rarely try the same block first
    for n in ns:
        fd = os.open(os.path.join(NET_LEASE_DIR, str(n)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return "127.%d.1." % n, fd
    raise RigError("every rig address block 127.%d-%d.0.0/16 is leased (%s): too many rigs at once"
                   % (NET_LEASE_RANGE[0], NET_LEASE_RANGE[-1], NET_LEASE_DIR))


def _blocks(path, pw):
    """The first directory on the way to path (itself included) that user pw cannot traverse,
    with its mode, or None. path: a real path."""
    groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
    d = "/"
    for part in [x for x in path.split("/") if x][:-1]:
        d = os.path.join(d, part)
        st = os.stat(d)
        if st.st_uid == pw.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid in groups:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return d, st.st_mode & 0o7777
    return None


def rig_address(prefix, index):
    """Loopback address of worker `index` (1-based): <prefix><index> for 1..250, as before, then
    250 per /24 over the next third octets: 127.0.(1 + (i-1) // 250).(1 + (i-1) % 250) with the
    default prefix "127.0.1.". Everything stays inside 127.0.0.0/8, which Linux routes to lo."""
    if 0 <= index <= 250:
        return "%s%d" % (prefix, index)
    parts = prefix.rstrip(".").split(".")
    if len(parts) != 3 or parts[0] != "127" or not all(x.isdigit() for x in parts):
        raise RigError("worker %d: address prefix %r cannot grow past 250 workers" % (index, prefix))
    third = int(parts[2]) + (index - 1) // 250
    if third > 255:
        raise RigError("worker %d: no address left under %s" % (index, prefix))
    return "%s.%s.%d.%d" % (parts[0], parts[1], third, 1 + (index - 1) % 250)


def rig_keygen(kind, path, comment):
    """A new Ed25519 host key: <path>.pub (OpenSSH public line) plus the private key the server
    reads: <path> (OpenSSH format) for sshd, <path>.dropbear for dropbear. For dropbear one
    `dropbearkey` run does it (it prints the public line), half the cost of ssh-keygen followed
    by dropbearconvert, which matters when hundreds of workers start."""
    if kind == "openssh":
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])
        return
    out = _run(["dropbearkey", "-t", "ed25519", "-f", path + ".dropbear"])
    pub = [line for line in out.splitlines() if line.startswith("ssh-ed25519 ")]
    if not pub:
        raise RigError("dropbearkey printed no public key: %r" % out)
    with open(path + ".pub", "w") as f:
        f.write(" ".join(pub[0].split()[:2] + [comment]) + "\n")


def _listening(address, port):
    try:
        socket.create_connection((address, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _listener_inodes(address, port):
    """Inodes of the TCP sockets listening on address:port, or on 0.0.0.0:port (which answers
    there too), from /proc/net/tcp (the rig's workers share the host's network namespace)."""
    want = {"%s:%04X" % (socket.inet_aton(address)[::-1].hex().upper(), port), "00000000:%04X" % port}
    out = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and parts[1] in want:  # 0A: LISTEN
                out.add("socket:[%s]" % parts[9])
    return out


def _socket_owners(links, pids=None):
    """The pids (of pids, default every process) holding one of these "socket:[inode]" links."""
    out = []
    for p in pids if pids is not None else [int(e) for e in os.listdir("/proc") if e.isdigit()]:
        try:
            fds = os.listdir("/proc/%d/fd" % p)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (p, fd)) in links:
                    out.append(p)
                    break
            except OSError:
                continue
    return out


def _mnt_ns(pid):
    try:
        return os.readlink("/proc/%d/ns/mnt" % pid)
    except OSError:
        return None


def _pids_in_ns(namespaces):
    out = []
    if not namespaces:
        return out
    for e in os.listdir("/proc"):
        if e.isdigit() and _mnt_ns(int(e)) in namespaces:
            out.append(int(e))
    return out


def _kill_namespaces(namespaces):
    """SIGKILL every process in these mount namespaces. One /proc scan per pass, so stopping
    hundreds of workers at once costs a few scans, not one per worker."""
    for _ in range(3):
        pids = _pids_in_ns(namespaces)
        if not pids:
            break
        for p in pids:
            try:
                os.kill(p, signal.SIGCONT)
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def _descendants(pid):
    children = {}
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(e))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


class Worker:
    """One fake worker VM. Created and started by WorkerRig.add_worker()."""

    def __init__(self, rig, index, kind, address, port):
        self.rig = rig
        self.index = index
        self.kind = kind  # "openssh" or "dropbear"
        self.id = "w%d" % index
        self.address = address
        self.port = port
        self.dir = os.path.join(rig.base_dir, self.id)
        self.proc = None
        self.namespaces = set()
        self._ns_fds = []         # open fds of self.namespaces: keeps their ids from being reused
        self.key_generation = 0
        self._log = None
        self.host_names = ()      # set_host_names: names this worker's /etc/hosts gives its own address

    # ---- paths -------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def secret_path(self):
        """Where the worker's /var/run/arvados-instance-secret lives on the host."""
        return self.path("run", "arvados-instance-secret")

    @property
    def lock_dir(self):
        """The worker's /var/lock as seen from the host."""
        return self.path("run", "lock")

    @property
    def state_dir(self):
        """stub-crunch-run's records (invocations.jsonl, payload-<uuid>.json, events.jsonl)."""
        return self.path("crunch-run")

    @property
    def host_key_path(self):
        return self.path("host_ed25519")

    @property
    def log_path(self):
        return self.path("sshd.log" if self.kind == "openssh" else "dropbear.log")

    def host_key_pub(self):
        """Current public host key, 'ssh-ed25519 AAAA...'."""
        with open(self.host_key_path + ".pub") as f:
            return " ".join(f.read().split()[:2])

    def known_hosts_line(self):
        return "[%s]:%d %s" % (self.address, self.port, self.host_key_pub())

    def describe(self):
        return {"id": self.id, "kind": self.kind, "address": self.address, "port": self.port,
                "user": self.rig.user, "host_key": self.host_key_pub(), "host_key_file": self.host_key_path + ".pub",
                "known_hosts_line": self.known_hosts_line(), "worker_dir": self.dir,
                "secret_file": self.secret_path, "lock_dir": self.lock_dir, "state_dir": self.state_dir,
                "log": self.log_path, "pid": self.pid, "running": self.running}

    # ---- set-up ------------------------------------------------------------------------------
    def _setup(self):
        u = self.rig.pw
        for d in ("run", "bin", "home", "deploy", "crunch-run"):
            os.makedirs(self.path(d), exist_ok=True)
        os.makedirs(self.path("run", "sshd"), mode=0o755, exist_ok=True)
        os.makedirs(self.path("run", "lock"), exist_ok=True)
        os.chmod(self.path("run", "lock"), 0o1777)
        with open(self.path("run", "adc-rig-worker-dir"), "w") as f:
            f.write(self.dir + "\n")
        # The remote user must be able to use its own state: with the sudo shim nothing runs as root
        # when the user is not root.
        for d in ("home", "deploy", "crunch-run"):
            os.chown(self.path(d), u.pw_uid, u.pw_gid)
        os.chmod(self.path("home"), 0o700)
        ssh_dir = self.path("home", ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        os.chown(ssh_dir, u.pw_uid, u.pw_gid)
        self.set_authorized_keys(self.rig.authorized_keys)
        self.set_secret("secret-%s-%s" % (self.id, os.urandom(6).hex()))
        if not os.path.lexists(self.path("bin", "crunch-run")):
            os.symlink(self.rig.crunch_run, self.path("bin", "crunch-run"))
        with open(self.path("bin", "sudo"), "w") as f:
            f.write(SUDO_SHIM)
        os.chmod(self.path("bin", "sudo"), 0o755)
        with open(self.path("bin", "poweroff"), "w") as f:
            f.write(POWEROFF_SHIM)
        os.chmod(self.path("bin", "poweroff"), 0o755)
        for d in self.rig.private_dirs:
            os.makedirs(d, exist_ok=True)  # bind mount target on the host, stays empty there
        shared = self.rig.shared_host_key_dir(self.kind)
        if shared:
            # Copies, not links: rotate_host_key unlinks and replaces this worker's files only.
            private = self.host_key_path + (".dropbear" if self.kind == "dropbear" else "")
            shutil.copyfile(os.path.join(shared, os.path.basename(private)), private)
            os.chmod(private, 0o600)
            shutil.copyfile(os.path.join(shared, "host_ed25519.pub"), self.host_key_path + ".pub")
            self.key_generation += 1
        else:
            self._new_host_key()

    def _new_host_key(self):
        """A fresh Ed25519 host key of this worker only (always so for rotate_host_key)."""
        for p in (self.host_key_path, self.host_key_path + ".pub", self.host_key_path + ".dropbear"):
            if os.path.exists(p):
                os.unlink(p)
        rig_keygen(self.kind, self.host_key_path, "%s-hostkey-%d" % (self.id, self.key_generation))
        self.key_generation += 1

    def _rsa_key(self):
        """An RSA host key from a cache shared by all rigs (ssh-keygen -t rsa takes ~1.5 s)."""
        os.makedirs(RSA_CACHE, mode=0o700, exist_ok=True)
        p = os.path.join(RSA_CACHE, "host_rsa_%d" % self.index)
        if not os.path.exists(p):
            tmp = p + ".%d" % os.getpid()
            _run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", tmp])
            os.rename(tmp + ".pub", p + ".pub")
            os.rename(tmp, p)
        if self.kind == "dropbear" and not os.path.exists(p + ".dropbear"):
            _run(["dropbearconvert", "openssh", "dropbear", p, p + ".dropbear.%d" % os.getpid()])
            os.rename(p + ".dropbear.%d" % os.getpid(), p + ".dropbear")
        return p

    def set_authorized_keys(self, keys):
        u = self.rig.pw
        p = self.path("home", ".ssh", "authorized_keys")
        with open(p, "w") as f:
            for k in keys:
                f.write(k.strip() + "\n")
        os.chmod(p, 0o600)
        os.chown(p, u.pw_uid, u.pw_gid)

    def set_secret(self, secret):
        """Write the worker's /var/run/arvados-instance-secret (exactly these bytes, no newline)."""
        u = self.rig.pw
        with open(self.secret_path, "w") as f:
            f.write(secret)
        os.chmod(self.secret_path, 0o600)
        os.chown(self.secret_path, u.pw_uid, u.pw_gid)
        self.secret = secret

    def set_host_names(self, names):
        """From the next start on, the worker sees an /etc/hosts of its own (bound over the host's in its
        namespace) where these names are its own address: a URL with one fixed name then reaches, from
        each worker, a server listening on that worker's address (fake_ec2's --imds-port: every VM
        reads its own instance metadata at one address, as on EC2)."""
        self.host_names = tuple(names)

    def _write_sshd_config(self):
        lines = [
            "ListenAddress %s:%d" % (self.address, self.port),
            "HostKey %s" % self.host_key_path,
        ]
        if self.rig.rsa:
            lines.append("HostKey %s" % self._rsa_key())
        lines += [
            # Relative to the home, which is <worker dir>/home inside the namespace (as for dropbear).
            "AuthorizedKeysFile .ssh/authorized_keys",
            "PidFile none",
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "PrintLastLog no",
            "PrintMotd no",
            "UseDNS no",
            "MaxSessions %d" % self.rig.max_sessions,
            "MaxStartups 100:30:200",
            "LogLevel VERBOSE",
            "SetEnv ADC_WORKER_ID=%s ADC_WORKER_DIR=%s" % (self.id, self.dir),
        ]
        with open(self.path("sshd_config"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _server_argv(self):
        if self.kind == "openssh":
            self._write_sshd_config()
            return [SSHD, "-D", "-f", self.path("sshd_config"), "-E", self.log_path]
        argv = [DROPBEAR, "-F", "-E", "-e", "-s", "-m", "-p", "%s:%d" % (self.address, self.port),
                "-r", self.host_key_path + ".dropbear", "-P", self.path("dropbear.pid")]
        if self.rig.rsa:
            argv += ["-r", self._rsa_key() + ".dropbear"]
        return argv

    # ---- life cycle --------------------------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    @property
    def running(self):
        return self.pid is not None

    def start(self, timeout=10.0):
        if self.running:
            raise RigError("%s already running" % self.id)
        binds = [self.path("run"), "/run", self.path("bin"), "/usr/local/sbin", self.path("bin"), "/usr/local/bin",
                 self.path("home"), self.rig.pw.pw_dir]
        for i, d in enumerate(self.rig.private_dirs):
            src = self.path("deploy") if i == 0 else self.path("private%d" % i)
            os.makedirs(src, exist_ok=True)
            os.chown(src, self.rig.pw.pw_uid, self.rig.pw.pw_gid)
            binds += [src, d]
        if self.host_names:
            with open(self.path("hosts"), "w") as f:
                f.write("127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\t%s\n" % (self.address, " ".join(self.host_names)))
            os.chmod(self.path("hosts"), 0o644)
            binds += [self.path("hosts"), "/etc/hosts"]
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "ADC_WORKER_ID": self.id, "ADC_WORKER_DIR": self.dir}
        argv = ["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", LAUNCH, "sh"] + binds + ["--"] + \
            self._server_argv()
        # unshare and sh exec, so the Popen pid is the server itself: SIGSTOP/SIGKILL hit the listener.
        # sshd logs to -E; dropbear -E logs to stderr.
        log = open(self.path("launch.log"), "ab")
        err = log if self.kind == "openssh" else open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=err,
                                         env=env, start_new_session=True)
        finally:
            log.close()
            err.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                others = _socket_owners(_listener_inodes(self.address, self.port))
                raise RigError("%s: server exited with %d%s; see %s and %s" % (
                    self.id, self.proc.returncode,
                    " (%s:%d is taken by another listener: pid %s)" % (
                        self.address, self.port, ", ".join(map(str, others))) if others else "",
                    self.path("launch.log"), self.log_path))
            ns = _mnt_ns(self.proc.pid)
            if ns and ns != _mnt_ns(os.getpid()) and ns not in self.namespaces:
                self._hold_namespace(ns)
            # Up only when the listener is the server's own: one of somebody else on the port
            # also accepts a connect, and then the server fails to bind and exits (issue 18).
            if _listening(self.address, self.port) and \
                    _socket_owners(_listener_inodes(self.address, self.port), [self.proc.pid]):
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RigError("%s: not listening on %s:%d after %.0fs" % (self.id, self.address, self.port, timeout))
            time.sleep(0.01)

    def run_init(self, script, timeout=30):
        """Run a VM's user data (bytes, "#!" first) as cloud-init does at first boot: as root,
        from /, with a plain PATH, waiting for it to finish (what it detaches keeps running, in
        this worker's namespace, until the worker is stopped). It enters the namespace the rig
        holds open for the running server, and runs only if that namespace shows this worker's
        /run (so the rig's poweroff shim, not the host's, is on its PATH). Returns the
        CompletedProcess (stdout and stderr captured)."""
        if not self.running or not self._ns_fds:
            raise RigError("%s: not running" % self.id)
        path = self.path("user-data")
        with open(path, "wb") as f:
            f.write(script)
        os.chmod(path, 0o700)
        ns = "/proc/%d/fd/%d" % (os.getpid(), self._ns_fds[-1])
        guard = '[ "$(cat /run/adc-rig-worker-dir)" = "$1" ] || exit 99; cd / && exec "$2"'
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "HOME": "/root"}
        r = subprocess.run(["nsenter", "--mount=" + ns, "--", "/bin/sh", "-c", guard, "sh", self.dir, path],
                           stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=timeout)
        if r.returncode == 99:
            raise RigError("%s: user data not run: the namespace is not this worker's" % self.id)
        return r

    def powered_off(self):
        """When the VM's poweroff ran (time.time() seconds, from the shim), or None."""
        try:
            with open(self.path("powered-off")) as f:
                return float(f.read())
        except FileNotFoundError:
            return None

    def _signal_listener(self, sig):
        if not self.running:
            raise RigError("%s is not running" % self.id)
        os.kill(self.proc.pid, sig)

    def _stop_all(self, pids):
        """SIGSTOP each of pids (one gone already is fine); thaw() resumes them."""
        for p in pids:
            try:
                os.kill(p, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        self._frozen = pids

    def freeze(self, sessions=False):
        """SIGSTOP the listener: new TCP connects succeed but get no banner. With sessions=True,
        also stop every per-connection server process (established connections hang too)."""
        pids = [self.proc.pid] + (_descendants(self.proc.pid) if sessions else [])
        self._stop_all(pids)

    def freeze_sessions(self):
        """SIGSTOP only the per-connection server processes: established connections go silent
        (nothing refused, nothing closed, as a worker whose packets are dropped), while new
        connections are still served."""
        pids = _descendants(self.proc.pid) if self.running else []
        self._stop_all(pids)

    def freeze_vm(self):
        """SIGSTOP every process of this worker (its mount namespaces: sshd, sessions and fake
        containers), as a VM that is paused: nothing it runs makes progress until thaw()."""
        pids = _pids_in_ns(self.namespaces)
        self._stop_all(pids)

    def thaw(self):
        for p in getattr(self, "_frozen", [self.proc.pid] if self.proc else []):
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._frozen = []

    def kill(self, sig=signal.SIGKILL):
        """Kill the listener only (sessions and fake containers survive, as when a real sshd dies)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def restart(self):
        """Kill and start again on the same address, port and host key."""
        self.kill()
        self.start()

    def rotate_host_key(self, restart=True):
        """Give the worker a new host key (clients pinning the old one must refuse it)."""
        self._new_host_key()
        if restart and self.running:
            self.restart()

    def _hold_namespace(self, ns):
        """Record a mount namespace of this worker and keep it open: a namespace's id (its inode
        number) is reused once the namespace is gone, and a later sweep by id would then kill
        another worker's processes (seen: an e2e worker's sshd killed by a neighbour's stop)."""
        try:
            fd = os.open("/proc/%d/ns/mnt" % self.proc.pid, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        if _mnt_ns(self.proc.pid) != ns:
            os.close(fd)
            return
        self.namespaces.add(ns)
        self._ns_fds.append(fd)

    def release_namespaces(self):
        for fd in self._ns_fds:
            os.close(fd)
        self._ns_fds = []
        self.namespaces = set()

    def stop(self):
        """Stop everything of this worker: the server, its sessions, fake containers (every process
        in any mount namespace this worker ever had)."""
        self.kill(signal.SIGTERM)
        _kill_namespaces(self.namespaces)
        self.release_namespaces()

    # ---- stub crunch-run controls and records --------------------------------------------------
    def set_crunch_run_config(self, **cfg):
        """Behaviour of fake containers (see stub-crunch-run DEFAULT_CONFIG), e.g. duration=2."""
        p = os.path.join(self.state_dir, "config.json")
        with open(p + ".tmp", "w") as f:
            json.dump(cfg, f)
        os.rename(p + ".tmp", p)

    def set_broken(self, broken=True):
        p = os.path.join(self.lock_dir, "crunch-run-broken")
        if broken:
            open(p, "a").close()
        elif os.path.exists(p):
            os.unlink(p)

    def _jsonl(self, name):
        try:
            with open(os.path.join(self.state_dir, name)) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def invocations(self):
        """Every crunch-run invocation on this worker: [{"argv", "stdin"?, "pid", "uid", "time"}]."""
        return self._jsonl("invocations.jsonl")

    def events(self):
        return self._jsonl("events.jsonl")

    def payload(self, uuid):
        """The --stdin-config JSON sent with the last successful --detach of uuid, parsed."""
        with open(os.path.join(self.state_dir, "payload-%s.json" % uuid)) as f:
            return json.load(f)

    def prices(self):
        """The last --stdin-prices data, parsed, or None."""
        try:
            with open(os.path.join(self.lock_dir, "crunch-run-prices.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            return None


class WorkerRig:
    """A set of fake workers under base_dir. Use as a context manager, or call stop()."""

    def __init__(self, base_dir, authorized_keys=(), user="root", rsa=False, address_prefix=None,
                 first_index=1, private_dirs=DEFAULT_PRIVATE_DIRS, max_sessions=64, shared_host_key=False,
                 crunch_run=STUB, parallel=8):
        """shared_host_key: every worker of a kind starts with one host key generated once (for
        benches with hundreds of workers; tests of pinning need distinct keys, the default).
        rotate_host_key still gives that worker a key of its own. crunch_run: what `crunch-run`
        on the workers' PATH is (an absolute path; default the recording stub). parallel: how
        many workers start() sets up and starts at once. address_prefix: None (the default)
        leases a block of addresses no other rig uses (rig_lease_net) until stop()."""
        if os.geteuid() != 0:
            raise RigError("the rig needs root (mount namespaces, sshd privilege separation)")
        self.base_dir = os.path.abspath(base_dir)
        os.makedirs(self.base_dir, exist_ok=True)
        self.user = user
        self.pw = rig_ensure_user(user) if user != "root" else __import__("pwd").getpwnam("root")
        for shadowed in ("/run", "/usr/local/bin", "/usr/local/sbin", self.pw.pw_dir) + tuple(private_dirs):
            if (self.base_dir + "/").startswith(shadowed.rstrip("/") + "/"):
                raise RigError("base dir %s is under %s, which the workers' bind mounts hide" % (self.base_dir, shadowed))
        # Paths go into sshd_config SetEnv lines and sh scripts unquoted.
        if any(c.isspace() for c in self.base_dir):
            raise RigError("base dir must not contain white space")
        os.chmod(self.base_dir, 0o755)
        if self.pw.pw_uid != 0:
            self._check_traversable()
        self.authorized_keys = [self._read_key(k) for k in authorized_keys]
        self.rsa = rsa
        self.address_prefix = address_prefix
        self.next_index = first_index
        self.private_dirs = tuple(private_dirs)
        self.max_sessions = max_sessions
        self.shared_host_key = shared_host_key
        self._shared_keys = {}
        if not os.path.isabs(crunch_run) or not os.access(crunch_run, os.X_OK):
            raise RigError("crunch_run %r must be an absolute path to an executable" % crunch_run)
        if self.pw.pw_uid != 0:
            self._check_reachable(crunch_run)
        self.crunch_run = crunch_run
        self.parallel = max(1, parallel)
        self.workers = []
        self.lock = threading.Lock()
        self._lease_fd = None
        if self.address_prefix is None:  # last: nothing above may fail with the lease taken
            self.address_prefix, self._lease_fd = rig_lease_net()

    def shared_host_key_dir(self, kind):
        """The directory holding the host key shared by all workers of this kind (generated on
        first use), or None when every worker gets its own."""
        if not self.shared_host_key:
            return None
        with self.lock:
            d = self._shared_keys.get(kind)
            if d is None:
                d = os.path.join(self.base_dir, "shared-host-key-%s" % kind)
                os.makedirs(d, mode=0o700, exist_ok=True)
                rig_keygen(kind, os.path.join(d, "host_ed25519"), "rig-shared-%s-hostkey" % kind)
                self._shared_keys[kind] = d
            return d

    def _check_traversable(self):
        """An unprivileged remote user must reach its worker dir (the stub keeps its records there,
        and sshd reads authorized_keys as the user). tempfile.mkdtemp() dirs are 0700."""
        d = self.base_dir
        while d != "/":
            d = os.path.dirname(d)
            st = os.stat(d)
            if not (st.st_mode & 0o001 or (st.st_uid == self.pw.pw_uid and st.st_mode & 0o100)):
                raise RigError("user %s cannot traverse %s (mode %o): make it o+x" % (self.user, d, st.st_mode & 0o7777))

    def _check_reachable(self, crunch_run):
        """The workers' crunch-run is a symlink to crunch_run (by default tests/rig/stub-crunch-run
        in the checkout), run as the remote user: when that user cannot reach it, every command
        fails later with a bare "crunch-run: Permission denied". Say so now, with the fix."""
        real = os.path.realpath(crunch_run)
        b = _blocks(real, self.pw)
        if b is not None:
            raise RigError("the rig's unprivileged remote user %s cannot run crunch-run %s: %s is mode %o. "
                           "Tests with an unprivileged remote user (ctest rig_sshd, sshpool_rig) need the checkout "
                           "reachable by other users: make every directory above it o+x (chmod o+x %s), or "
                           "put the checkout under a directory such as /srv or /var/tmp"
                           % (self.user, real, b[0], b[1], b[0]))
        st = os.stat(real)
        if (st.st_mode & 0o005) != 0o005 and st.st_uid != self.pw.pw_uid:
            raise RigError("the rig's unprivileged remote user %s cannot run crunch-run %s (mode %o): "
                           "make it world-readable and executable (chmod o+rx %s)"
                           % (self.user, real, st.st_mode & 0o7777, real))

    @staticmethod
    def _read_key(k):
        if os.path.exists(k):
            with open(k) as f:
                return f.read().strip()
        return k.strip()

    def _new_worker(self, kind):
        """Reserve the next index (and its address) and list the worker; nothing on disk yet."""
        if kind not in ("openssh", "dropbear"):
            raise RigError("unknown worker kind %r" % kind)
        with self.lock:
            i = self.next_index
            self.next_index += 1
            address = rig_address(self.address_prefix, i)
            w = Worker(self, i, kind, address, free_ports.free_port(address, reserve=False))
            self.workers.append(w)
        return w

    @staticmethod
    def _prepare(w, start):
        if os.path.exists(w.dir):
            shutil.rmtree(w.dir)
        w._setup()
        if start:
            w.start()
        return w

    def add_worker(self, kind="openssh", start=True):
        w = self._new_worker(kind)
        try:
            return self._prepare(w, start)
        except BaseException:
            w.stop()
            with self.lock:
                self.workers.remove(w)  # describe() lists only workers that were set up
            raise

    def start(self, n=0, dropbear=0):
        """Add and start n OpenSSH workers and `dropbear` dropbear workers; returns the new ones,
        in index order. Up to `parallel` of them are set up and started at once (threads: the
        work is mostly waiting for ssh-keygen, mount and the server to come up). If any fails,
        the others are still started (stop() cleans up) and the first error is raised."""
        ws = [self._new_worker("openssh") for _ in range(n)] + [self._new_worker("dropbear") for _ in range(dropbear)]
        if self.parallel == 1 or len(ws) < 2:
            return [self._prepare(w, True) for w in ws]
        with ThreadPoolExecutor(max_workers=self.parallel) as ex:
            futures = [ex.submit(self._prepare, w, True) for w in ws]
        for f in futures:
            f.result()
        return ws

    def worker(self, wid):
        for w in self.workers:
            if w.id == wid or str(w.index) == str(wid):
                return w
        raise RigError("no worker %r" % wid)

    def write_known_hosts(self, path=None):
        """Write the current host keys of all workers as an OpenSSH known_hosts file."""
        path = path or os.path.join(self.base_dir, "known_hosts")
        with open(path, "w") as f:
            for w in self.workers:
                f.write(w.known_hosts_line() + "\n")
        return path

    def describe(self):
        return {"base_dir": self.base_dir, "user": self.user, "known_hosts": self.write_known_hosts(),
                "workers": [w.describe() for w in self.workers]}

    def stop(self):
        # Listeners first, then one sweep over the namespaces of all workers (see _kill_namespaces).
        namespaces = set()
        for w in self.workers:
            w.kill(signal.SIGTERM)
            namespaces |= w.namespaces
        _kill_namespaces(namespaces)
        for w in self.workers:
            w.release_namespaces()
        if self._lease_fd is not None:
            os.close(self._lease_fd)  # the address block is free for the next rig
            self._lease_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---- CLI: a supervisor process keeps the servers as its children (never daemonised servers) ----

def _serve(rig, sock_path, out_fd):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    srv.bind(sock_path)
    srv.listen(4)
    os.write(out_fd, (json.dumps(rig.describe(), indent=2) + "\n").encode())
    os.close(out_fd)
    stop = False
    while not stop:
        conn, _ = srv.accept()
        with conn:
            line = conn.makefile().readline().split()
            try:
                reply = _control(rig, line)
                if reply == "down":
                    stop, reply = True, {"ok": True}
            except (RigError, OSError, IndexError) as e:
                reply = {"ok": False, "error": str(e)}
            if stop:
                rig.stop()
            conn.sendall((json.dumps(reply) + "\n").encode())
    srv.close()
    os.unlink(sock_path)


def _control(rig, words):
    cmd = words[0]
    if cmd == "down":
        return "down"
    if cmd == "describe":
        return {"ok": True, "rig": rig.describe()}
    if cmd == "add":
        w = rig.add_worker(words[1] if len(words) > 1 else "openssh")
        return {"ok": True, "worker": w.describe()}
    w = rig.worker(words[1])
    actions = {"freeze": w.freeze, "thaw": w.thaw, "kill": w.kill, "start": w.start, "restart": w.restart,
               "rotate-key": w.rotate_host_key, "stop": w.stop}
    if cmd == "secret":
        w.set_secret(words[2])
    elif cmd == "freeze-all":
        w.freeze(sessions=True)
    elif cmd == "freeze-sessions":
        w.freeze_sessions()
    elif cmd in actions:
        actions[cmd]()
    else:
        raise RigError("unknown command %r" % cmd)
    return {"ok": True, "worker": w.describe()}


def _send(d, words, timeout=60):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.path.join(d, "rig.sock"))
    s.sendall((" ".join(words) + "\n").encode())
    data = s.makefile().read()
    s.close()
    return json.loads(data)


def main(argv):
    ap = argparse.ArgumentParser(prog="sshd_rig.py", description="fake Arvados workers on real SSH servers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start workers, print their JSON description, keep them running")
    up.add_argument("-n", type=int, default=1, help="number of OpenSSH workers")
    up.add_argument("--dropbear", type=int, default=0, help="number of dropbear workers")
    up.add_argument("--dir", required=True)
    up.add_argument("--authorized-key", action="append", default=[], help="public key (file or text), repeatable")
    up.add_argument("--user", default="root")
    up.add_argument("--rsa", action="store_true", help="also give each worker a (cached) RSA host key")
    up.add_argument("--address-prefix", default=None,
                    help="e.g. 127.0.1. (default: a block no other rig uses, leased until down)")
    up.add_argument("--first-index", type=int, default=1)
    up.add_argument("--shared-host-key", action="store_true",
                    help="one host key per server kind for all workers (benches; not for pinning tests)")
    up.add_argument("--crunch-run", default=STUB, help="absolute path of the workers' crunch-run (default: the stub)")
    up.add_argument("--parallel", type=int, default=8, help="workers started at once")
    for name, hlp in (("down", "stop all workers and the supervisor"), ("describe", "print the JSON description")):
        p = sub.add_parser(name, help=hlp)
        p.add_argument("--dir", required=True)
    ctl = sub.add_parser("ctl", help="freeze|freeze-all|freeze-sessions|thaw|kill|start|restart|rotate-key|stop WORKER, "
                         "secret WORKER VALUE, add [openssh|dropbear]")
    ctl.add_argument("--dir", required=True)
    ctl.add_argument("words", nargs="+")
    a = ap.parse_args(argv)

    if a.cmd == "up":
        d = os.path.abspath(a.dir)
        os.makedirs(d, exist_ok=True)
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            # Supervisor: own session, output to rig.log; reports the description or an error on the pipe.
            os.close(r)
            os.setsid()
            logfd = os.open(os.path.join(d, "rig.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            nul = os.open(os.devnull, os.O_RDONLY)
            os.dup2(nul, 0)
            os.dup2(logfd, 1)
            os.dup2(logfd, 2)
            code = 0
            rig = None
            try:
                rig = WorkerRig(d, a.authorized_key, user=a.user, rsa=a.rsa, address_prefix=a.address_prefix,
                                first_index=a.first_index, shared_host_key=a.shared_host_key,
                                crunch_run=os.path.abspath(a.crunch_run), parallel=a.parallel)
                rig.start(a.n, a.dropbear)
                with open(os.path.join(d, "rig.pid"), "w") as f:
                    f.write("%d\n" % os.getpid())
                _serve(rig, os.path.join(d, "rig.sock"), wfd)
            except BaseException as e:  # report any failure to the waiting `up`
                try:
                    os.write(wfd, ("ERROR %s\n" % e).encode())
                except OSError:
                    pass
                if rig:
                    rig.stop()
                code = 1
            os._exit(code)
        os.close(wfd)
        with os.fdopen(r) as f:
            out = f.read()
        if not out or out.startswith("ERROR "):
            sys.stderr.write("sshd_rig up failed: %s (see %s)\n" % (out[6:].strip() or "no output",
                                                                   os.path.join(d, "rig.log")))
            return 1
        sys.stdout.write(out)
        return 0
    if a.cmd == "down":
        rep = _send(a.dir, ["down"])
        try:
            with open(os.path.join(a.dir, "rig.pid")) as f:
                pid = int(f.read())
            for _ in range(100):
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break  # gone; this VM's init reaps late
                time.sleep(0.05)
        except (OSError, ValueError):
            pass
        return 0 if rep.get("ok") else 1
    if a.cmd == "describe":
        rep = _send(a.dir, ["describe"])
        print(json.dumps(rep["rig"], indent=2))
        return 0
    rep = _send(a.dir, a.words)
    print(json.dumps(rep, indent=2))
    return 0 if rep.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
