"""unit_exec.py - start a service the way its systemd unit would, without systemd.

PID 1 on the test machines is not systemd (../shared/testing.md 7), so `systemd-run` cannot
apply the unit. This reproduces, by hand and from the unit file itself, what matters for
arvados-dispatch-cloud's helpers (they switch users and sandbox themselves under it):

  ExecStart= (with $VAR word-split as systemd does), Environment=, EnvironmentFile=, a
  clean environment, RuntimeDirectory= ($RUNTIME_DIRECTORY, writable), Type=notify's
  NOTIFY_SOCKET (the caller's), CapabilityBoundingSet=, NoNewPrivileges=, SecureBits=
  (setpriv), ProtectSystem=strict with ReadWritePaths=, ProtectHome=yes, PrivateTmp=yes, PrivateDevices=yes
  (a private mount namespace: unshare -m), SystemCallFilter=, SystemCallErrorNumber=,
  SystemCallArchitectures=native, RestrictAddressFamilies=, MemoryDenyWriteExecute=,
  RestrictNamespaces=yes (seccomp, unit_seccomp_exec.c).

Not reproduced (noted so nobody reads more into a pass): the Protect{Kernel*,Clock,
Hostname,Proc}=, ProcSubset, PrivateIPC, DevicePolicy, LockPersonality, RestrictRealtime,
RestrictSUIDSGID, KeyringMode and UMask settings.

/etc/arvados is replaced by a directory of the caller's (bound read-only over it inside the
namespace), so the host's /etc/arvados is never read or written. Standard library only.
"""
import errno
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def parse_unit(path):
    """{section: [(key, value), ...]} in file order (keys may repeat)."""
    out, sect = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                sect = line[1:-1]
                out.setdefault(sect, [])
                continue
            k, _, v = line.partition("=")
            out[sect].append((k.strip(), v.strip()))
    return out


def values(unit, key, sect="Service"):
    return [v for k, v in unit.get(sect, []) if k == key]


def last(unit, key, default=None, sect="Service"):
    v = values(unit, key, sect)
    return v[-1] if v else default


def expand_group(name, seen=None):
    """A SystemCallFilter= word: a syscall, or @group expanded by systemd-analyze itself."""
    seen = set() if seen is None else seen
    if not name.startswith("@"):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                         capture_output=True, text=True).stdout
    calls = set()
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        calls |= expand_group(line, seen)
    return calls


def syscall_allow_list(unit):
    """SystemCallFilter= lines: the first decides allow-list mode (all of ours are); "~"
    lines take calls out again, in order, as systemd does."""
    allowed = None
    for v in values(unit, "SystemCallFilter"):
        deny = v.startswith("~")
        words = v.lstrip("~").split()
        calls = set()
        for w in words:
            calls |= expand_group(w)
        if allowed is None:
            if deny:
                raise ValueError("unit_exec: a deny-list SystemCallFilter= is not reproduced")
            allowed = calls
        elif deny:
            allowed -= calls
        else:
            allowed |= calls
    return allowed


def env_file(path):
    """EnvironmentFile= syntax: KEY=VALUE lines, # comments, shell-like quoting."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            k, _, v = line.partition("=")
            words = shlex.split(v) if v else [""]
            env[k.strip()] = " ".join(words)
    return env


def exec_argv(line, env):
    """ExecStart=: "$VAR" alone is split into words, "${VAR}" kept as one word."""
    argv = []
    for w in shlex.split(line):
        if w.startswith("${") and w.endswith("}"):
            argv.append(env.get(w[2:-1], ""))
        elif w.startswith("$") and len(w) > 1:
            argv.extend(env.get(w[1:], "").split())
        else:
            argv.append(w)
    return argv


class UnitRun:
    """The unit's process, started with the unit's settings (see the module doc)."""

    def __init__(self, unit_path, etc_arvados, seccomp_exec, notify_socket=None,
                 etc_arvados_source=None):
        self.unit_path = unit_path
        self.unit = parse_unit(unit_path)
        self.etc = etc_arvados
        self.seccomp_exec = seccomp_exec
        self.notify_socket = notify_socket
        self.runtime_dir = None
        self.proc = None

    def environment(self):
        env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
        for v in values(self.unit, "Environment"):
            for w in shlex.split(v):
                k, _, val = w.partition("=")
                env[k] = val
        for v in values(self.unit, "EnvironmentFile"):
            optional = v.startswith("-")
            path = v.lstrip("-")
            if not path.startswith("/etc/arvados/"):
                raise ValueError("unit_exec: EnvironmentFile outside /etc/arvados: " + path)
            local = os.path.join(self.etc, path[len("/etc/arvados/"):])
            if os.path.exists(local):
                env.update(env_file(local))
            elif not optional:
                raise FileNotFoundError(path)
        rd = last(self.unit, "RuntimeDirectory")
        if rd:
            self.runtime_dir = "/run/" + rd
            env["RUNTIME_DIRECTORY"] = self.runtime_dir
        if last(self.unit, "Type") == "notify" and self.notify_socket:
            env["NOTIFY_SOCKET"] = self.notify_socket
        return env

    def spec(self, env):
        u = self.unit
        caps = last(u, "CapabilityBoundingSet", "")
        bounding = "-all" + "".join(",+" + c[4:].lower() for c in caps.split())
        families = []
        for name in last(u, "RestrictAddressFamilies", "").split():
            families.append(str(int(getattr(socket, name))))
        allow = sorted(syscall_allow_list(u))
        err = last(u, "SystemCallErrorNumber")
        return {
            "etc": self.etc,
            "runtime_dir": self.runtime_dir,
            "read_write": [w for v in values(u, "ReadWritePaths") for w in v.split()],
            "runtime_mode": last(u, "RuntimeDirectoryMode", "0755"),
            "private_tmp": last(u, "PrivateTmp") == "yes",
            "protect_home": last(u, "ProtectHome") == "yes",
            "private_devices": last(u, "PrivateDevices") == "yes",
            "protect_system": last(u, "ProtectSystem"),
            "setpriv": ["setpriv", "--bounding-set=" + bounding]
            + (["--no-new-privs"] if last(u, "NoNewPrivileges") == "yes" else [])
            + (["--securebits=+noroot_locked"]
               if last(u, "SecureBits") == "noroot-locked" else []),
            "seccomp": [self.seccomp_exec, None, str(getattr(errno, err) if err else 1),
                        ",".join(families), "1" if last(u, "MemoryDenyWriteExecute") == "yes"
                        else "0", "1" if last(u, "RestrictNamespaces") == "yes" else "0", "--"],
            "allow": allow,
            "argv": exec_argv(last(u, "ExecStart"), env),
        }

    def start(self, stdout=subprocess.PIPE, stderr=subprocess.STDOUT):
        env = self.environment()
        spec = self.spec(env)
        if spec["protect_system"] not in ("strict",):
            raise ValueError("unit_exec: only ProtectSystem=strict is reproduced")
        for d in ("/etc/arvados", self.runtime_dir):
            if d and not os.path.isdir(d):
                raise RuntimeError("unit_exec: %s must exist as a mount point" % d)
        allow_path = os.path.join(self.etc, ".syscalls")
        with open(allow_path, "w") as f:
            f.write("\n".join(spec["allow"]) + "\n")
        spec["seccomp"][1] = "/etc/arvados/.syscalls"
        # The seccomp helper goes where the namespace can still see it: a checkout under /tmp
        # (CI's clone may be one) is hidden by PrivateTmp's fresh /tmp.
        shutil.copy2(self.seccomp_exec, os.path.join(self.etc, ".unit_seccomp_exec"))
        spec["seccomp"][0] = "/etc/arvados/.unit_seccomp_exec"
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "/usr/bin/python3", "-B",
             os.path.abspath(__file__), "--inner", json.dumps(spec)],
            env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, text=True,
            start_new_session=True)
        return self.proc


# ---- inside the mount namespace ------------------------------------------------------------

def sh(*argv):
    subprocess.run(argv, check=True)


def mountpoints():
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4]
            out.append(mp.encode().decode("unicode_escape"))
    return out


def under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def private_dev():
    """PrivateDevices=yes: a /dev with the pseudo devices only."""
    t = "/tmp/.unit-exec-dev"
    os.mkdir(t)
    sh("mount", "-t", "tmpfs", "-o", "mode=755,nosuid,noexec", "tmpfs", t)
    for n in ("null", "zero", "full", "random", "urandom", "tty"):
        open(os.path.join(t, n), "w").close()
        sh("mount", "--bind", "/dev/" + n, os.path.join(t, n))
    for d in ("pts", "shm"):
        os.mkdir(os.path.join(t, d))
    sh("mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620", "devpts", t + "/pts")
    sh("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", t + "/shm")
    os.symlink("pts/ptmx", t + "/ptmx")
    os.symlink("/proc/self/fd", t + "/fd")
    for i, n in enumerate(("stdin", "stdout", "stderr")):
        os.symlink("/proc/self/fd/%d" % i, t + "/" + n)
    sh("mount", "--move", t, "/dev")


def inner(spec):
    sh("mount", "--bind", spec["etc"], "/etc/arvados")
    writable = []
    if spec["runtime_dir"]:
        os.chmod(spec["runtime_dir"], int(spec["runtime_mode"], 8))
        sh("mount", "--bind", spec["runtime_dir"], spec["runtime_dir"])
        writable.append(spec["runtime_dir"])
    if spec["private_tmp"]:
        for d in ("/tmp", "/var/tmp"):
            sh("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", d)
            writable.append(d)
    # ReadWritePaths= ("-": ignored when missing); systemd follows symlinks (/var/lock).
    for w in spec["read_write"]:
        path = os.path.realpath(w.lstrip("-"))
        if not os.path.isdir(path):
            if w.startswith("-"):
                continue
            raise RuntimeError("unit_exec: ReadWritePaths=%s does not exist" % w)
        sh("mount", "--bind", path, path)
        writable.append(path)
    if spec["private_devices"]:
        private_dev()
    if spec["protect_home"]:
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                sh("mount", "-t", "tmpfs", "-o", "ro,mode=000", "tmpfs", d)
    # ProtectSystem=strict: everything read-only but the API file systems and the above.
    keep = ["/proc", "/sys", "/dev"] + writable
    for mp in sorted(set(mountpoints()), key=len):
        if under(mp, keep):
            continue
        r = subprocess.run(["mount", "-o", "remount,bind,ro", mp], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError("unit_exec: cannot make %s read-only: %s" % (mp, r.stderr))
    argv = spec["setpriv"] + spec["seccomp"] + spec["argv"]
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(json.loads(sys.argv[2]))
    sys.exit("usage: (internal) unit_exec.py --inner SPEC")
