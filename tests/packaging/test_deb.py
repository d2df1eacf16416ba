"""test_deb.py - the Debian package as an operator gets it (issue 14, docs/PACKAGING.md).

  1. `packaging/build-package.sh deb` (what `make deb` runs) builds the package; lintian
     reports no error and no warning (overrides, if any, live in packaging/debian/).
  2. The package's contents, dependencies (shlibs) and maintainer scripts are as promised;
     /etc/arvados/config.yml is neither shipped nor a conffile.
  3. `apt-get install ./arvados-dispatch-cloud_*.deb` on this machine: the unit is enabled,
     the sysusers.d file makes both helper users (checked in a scratch root too, where the
     users do not exist yet), `systemd-analyze verify` says nothing about the installed unit,
     and `systemd-analyze security --offline=true` scores it (printed; must stay under 4).
  4. The installed dispatcher is started as the unit would start it (unit_exec.py: ExecStart,
     the environment file, capability bounding set, no_new_privs, the mount namespace of
     ProtectSystem=strict etc., the syscall filter, Type=notify), with the loopback driver and
     the fake Arvados API server: it becomes ready, its helpers run as they should (sshd-pool
     as arvados-sshd-pool), a container runs to Complete with its output, and SIGTERM stops
     it with exit 0. Then again with the ec2 driver against the fake EC2, under which the
     parent sandboxes itself (loopback leaves it open): it says so, /proc shows its own
     seccomp filter, and it creates an instance for a queued container, listed with the
     container on the management API.
  5. `apt-get purge`: every file of the package is gone, and nothing is left enabled.

Needs root. /usr/bin/python3, standard library only.
"""
import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "scripts"))
import unit_exec  # noqa: E402
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import system_users  # noqa: E402
from machine_lock import LOOPBACK_LOCK, machine_lock  # noqa: E402

PKG = "arvados-dispatch-cloud"
OUT = os.environ.get("ADC_PKG_OUT") or os.path.join(SRC, "build-pkg", "test")
SECCOMP_EXEC = os.environ.get("ADC_UNIT_SECCOMP_EXEC")
UNIT = "/lib/systemd/system/arvados-dispatch-cloud.service"
LIBEXEC = "/usr/libexec/arvados-dispatch-cloud"
APT = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-q"]
EXPOSURE_MAX = 4.0
# linux/capability.h
CAP_NUMBERS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
               "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10,
               "CAP_SYS_CHROOT": 18, "CAP_AUDIT_WRITE": 29}

EXPECTED_FILES = {
    "/usr/bin/arvados-dispatch-cloud",
    LIBEXEC + "/cloudd",
    LIBEXEC + "/sshd-pool",
    UNIT,
    "/usr/lib/sysusers.d/arvados-dispatch-cloud.conf",
    "/usr/share/man/man8/arvados-dispatch-cloud.8.gz",
    "/usr/share/man/man8/cloudd.8.gz",
    "/usr/share/man/man8/sshd-pool.8.gz",
    "/usr/share/arvados-dispatch-cloud/grafana/arvados-dispatch-cloud.json",
    "/usr/share/doc/arvados-dispatch-cloud/copyright",
    "/usr/share/doc/arvados-dispatch-cloud/changelog.gz",
}

CONFIG = """Clusters:
  zzzzz:
    ManagementToken: %(mgmt_token)s
    SystemLogs:
      LogLevel: %(log_level)s
    SystemRootToken: %(root_token)s
    TLS:
      Insecure: true
    Services:
      Controller:
        ExternalURL: "https://127.0.0.1:%(api_port)d"
      DispatchCloud:
        InternalURLs:
          "http://127.0.0.1:%(mgmt_port)d": {}
    Containers:
      DispatchPrivateKey: "file:///etc/arvados/dispatch_key"
      CloudVMs:
        Driver: loopback
        BootProbeCommand: "true"
        DeployRunnerBinary: "/etc/arvados/crunch-run"
        DeployRunnerDirectory: "/run/arvados-dispatch-cloud/deploy"
        MaxInstances: 1
        PollInterval: 1s
        SyncInterval: 2s
        ProbeInterval: 1s
        TimeoutIdle: 60s
        TimeoutBooting: 60s
"""


# The same cluster with the ec2 driver, against the fake EC2 on 127.0.0.1 (as tests/e2e):
# the driver under which the parent sandboxes itself. Its instances never boot (no worker
# answers on 127.0.1.x), which the run does not need.
CONFIG_EC2 = """Clusters:
  zzzzz:
    ManagementToken: %(mgmt_token)s
    SystemRootToken: %(root_token)s
    TLS:
      Insecure: true
    Services:
      Controller:
        ExternalURL: "https://127.0.0.1:%(api_port)d"
      DispatchCloud:
        InternalURLs:
          "http://127.0.0.1:%(mgmt_port)d": {}
    Containers:
      DispatchPrivateKey: "file:///etc/arvados/dispatch_key"
      CloudVMs:
        Driver: ec2
        ImageID: ami-0123456789abcdef0
        DeployRunnerBinary: ""
        SSHPort: "%(ssh_port)d"
        MaxInstances: 1
        PollInterval: 1s
        SyncInterval: 1s
        TimeoutBooting: 300s
        DriverParameters:
          AccessKeyID: %(akid)s
          SecretAccessKey: %(sak)s
          Region: us-east-1
    InstanceTypes:
      t3small:
        ProviderType: t3.small
        VCPUs: 2
        RAM: 2GiB
        IncludedScratch: 16GB
        Price: 0.02
"""


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(argv, **kw)


def slurp(path):
    with open(path) as f:
        return f.read()


# Held from the install to the purge (machine_lock.py).
PACKAGE_LOCK = "/tmp/adc-system-package.lock"


def installed():
    r = run(["dpkg-query", "-W", "-f=${Status}", PKG])
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(st[1]) == pid:
            out.append(int(p))
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


class Notify:
    """A NOTIFY_SOCKET of our own (abstract), as systemd's for Type=notify."""

    made = 0

    def __init__(self):
        Notify.made += 1
        self.name = "@adc-pkg-test-%d-%d" % (os.getpid(), Notify.made)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.sock.settimeout(0.2)
        self.msgs = []

    def wait(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for m in self.msgs):
                return True
            try:
                self.msgs.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return False


@unittest.skipUnless(os.geteuid() == 0, "installs a package: needs root")
class DebTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.assertTrue(SECCOMP_EXEC and os.access(SECCOMP_EXEC, os.X_OK),
                        "ADC_UNIT_SECCOMP_EXEC must name the built unit_seccomp_exec")
        self.assertFalse(installed(), "%s is already installed here; the test installs and "
                         "purges it, so it will not run over an operator's copy" % PKG)

    def tearDown(self):
        if installed():
            run(APT + ["purge", PKG])

    # ---- 1, 2: build, lint, inspect -------------------------------------------------------

    def build(self):
        t0 = time.monotonic()
        shutil.rmtree(OUT, ignore_errors=True)
        r = run([os.path.join(SRC, "packaging", "build-package.sh"), "deb", OUT])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = glob.glob(os.path.join(OUT, PKG + "_*_*.deb"))
        self.assertEqual(len(debs), 1, debs)
        print("package: %s, %d bytes (built in %.0f s)" % (
            os.path.basename(debs[0]), os.path.getsize(debs[0]), time.monotonic() - t0))
        return debs[0]

    def lint(self):
        changes = glob.glob(os.path.join(OUT, PKG + "_*.changes"))
        r = run(["lintian", "--fail-on", "error,warning"] + changes)
        print("lintian: rc %d\n%s" % (r.returncode, r.stdout + r.stderr))
        bad = [line for line in r.stdout.splitlines() if re.match(r"^[EW]: ", line)]
        self.assertEqual(bad, [], "lintian errors or warnings")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def inspect(self, deb):
        r = run(["dpkg-deb", "-c", deb])
        files = {re.sub(r"^\.", "", line.split()[-1]) for line in r.stdout.splitlines()
                 if not line.startswith("d")}
        self.assertEqual(files, EXPECTED_FILES)
        depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
        for lib in ("libuv1", "libcurl4", "libssh-4", "libfyaml0", "libcjson1", "libsystemd0",
                    "libseccomp2", "libexpat1", "libmicrohttpd12", "libmbedcrypto7", "libc6"):
            self.assertIn(lib, depends, "shlibs dependency missing")
        self.assertIn("systemd | systemd-standalone-sysusers", depends)
        with tempfile.TemporaryDirectory() as d:
            run(["dpkg-deb", "-e", deb, d], check=True)
            self.assertFalse(os.path.exists(os.path.join(d, "conffiles")) and
                             "/etc/arvados" in slurp(os.path.join(d, "conffiles")))
            post, prerm, postrm = (slurp(os.path.join(d, n)) for n in ("postinst", "prerm", "postrm"))
        # users first, then enable, daemon-reload, start (restart after an upgrade)
        order = [post.find(s) for s in ("systemd-sysusers", "deb-systemd-helper enable",
                                        "daemon-reload", "_dh_action=restart",
                                        "deb-systemd-invoke $_dh_action")]
        self.assertTrue(all(i >= 0 for i in order) and order == sorted(order), post)
        self.assertIn("deb-systemd-invoke stop 'arvados-dispatch-cloud.service'", prerm)
        self.assertIn("deb-systemd-helper disable 'arvados-dispatch-cloud.service'", prerm)
        self.assertIn("deb-systemd-helper purge 'arvados-dispatch-cloud.service'", postrm)
        for script in (post, prerm, postrm):
            self.assertNotIn("/etc/arvados", script)

    # ---- 3: install -----------------------------------------------------------------------

    def install(self, deb):
        # The package's sysusers.d file makes the helpers' users, which tests running beside
        # this one may be creating too: the same lock as theirs (tests/support/system_users.py).
        with system_users.users_lock():
            r = run(APT + ["install", os.path.abspath(deb)],
                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(installed())
        listed = set(run(["dpkg", "-L", PKG]).stdout.split())
        self.assertTrue(EXPECTED_FILES <= listed, EXPECTED_FILES - listed)
        self.assertTrue(os.path.islink(
            "/etc/systemd/system/multi-user.target.wants/arvados-dispatch-cloud.service"),
            "the unit is not enabled")
        for u in ("arvados-cloudd", "arvados-sshd-pool"):
            pw = pwd.getpwnam(u)
            self.assertNotEqual(pw.pw_uid, 0)
            self.assertEqual(pw.pw_shell, "/usr/sbin/nologin")
        # The users may predate the package on a test machine: make them from nothing too.
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(root + "/etc")
            for f in ("passwd", "group"):
                with open(os.path.join(root, "etc", f), "w") as out:
                    out.write("root:x:0:0:root:/root:/bin/sh\n" if f == "passwd" else "root:x:0:\n")
            r = run(["systemd-sysusers", "--root=" + root,
                     "/usr/lib/sysusers.d/arvados-dispatch-cloud.conf"])
            self.assertEqual(r.returncode, 0, r.stderr)
            passwd = slurp(root + "/etc/passwd")
            for u in ("arvados-cloudd", "arvados-sshd-pool"):
                self.assertRegex(passwd, r"(?m)^%s:x:[1-9][0-9]*:[1-9][0-9]*:.*:/:/usr/sbin/nologin$"
                                 % u)
        return listed

    def unit_checks(self):
        r = run(["systemd-analyze", "verify", UNIT])
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify")
        r = run(["systemd-analyze", "security", "--offline=true", UNIT])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        print("systemd-analyze security --offline=true: exposure %s %s" % (m.group(1), m.group(2)))
        self.assertLess(float(m.group(1)), EXPOSURE_MAX)

    # ---- 4: run it as the unit would --------------------------------------------------------

    def etc_arvados(self, tmp, config, environment):
        """Our /etc/arvados (bound over the real one inside the unit's namespace): the config,
        the environment file, a dispatch key; the mount points the unit needs."""
        etc = os.path.join(tmp, "etc-arvados")
        os.mkdir(etc, 0o755)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pkg-test", "-f",
                        os.path.join(etc, "dispatch_key")], check=True)
        with open(os.path.join(etc, "config.yml"), "w") as f:
            f.write(config)
        with open(os.path.join(etc, "environment"), "w") as f:
            f.write(environment)
        for d in ("/etc/arvados", "/run/arvados-dispatch-cloud"):
            if not os.path.isdir(d):
                os.mkdir(d, 0o755)
                # Cleanups run last-in first-out: this one after the dispatcher is stopped
                # (its mount namespace holds the mount point) and the directory emptied.
                self.addCleanup(os.rmdir, d)
        return etc

    def fake_api(self):
        """The fake Arvados API server (scripts/demo_cluster.py's), stopped at the end."""
        import demo_cluster
        cl = demo_cluster.Cluster()
        self.addCleanup(shutil.rmtree, cl.dir, True)
        info = cl.start_fake()

        def stop():
            if cl.fake.poll() is None:
                cl.fake.terminate()
                cl.fake.wait()
            cl.fake.stdout.close()
        self.addCleanup(stop)
        return cl, info

    def start_unit(self, etc):
        """The installed dispatcher started as the unit would (unit_exec.py), once READY=1:
        (process, its log lines so far, a function giving the log's tail, the notify socket)."""
        notify = Notify()
        self.addCleanup(notify.sock.close)
        u = unit_exec.UnitRun(UNIT, etc, SECCOMP_EXEC, notify_socket=notify.name)
        proc = u.start()
        lines = []
        threading.Thread(target=lambda: [lines.append(line) for line in proc.stdout],
                         daemon=True).start()

        def stop():
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
            proc.stdout.close()
        self.addCleanup(stop)

        def log():
            # Without the management API's GET instances pairs: kill_instances polls it every
            # 200 ms, and those lines filled the whole tail of a failure's log (test-repeat).
            kept = [ln for ln in lines if not ('"reqPath":"arvados/v1/dispatch/instances"' in ln
                                               and '"reqMethod":"GET"' in ln)]
            return "".join(kept[-int(os.environ.get("ADC_PKG_LOG_LINES", "60")):])
        self.assertTrue(notify.wait("READY=1", 60), "no READY=1; log:\n" + log())
        return proc, lines, log, notify

    def stop_unit(self, proc, lines, log, notify):
        """SIGTERM to the main process, as systemctl stop: exit 0, STOPPING=1, and no error
        or fatal line in the whole log."""
        proc.terminate()
        self.assertEqual(proc.wait(20), 0, log())
        self.assertTrue(notify.wait("STOPPING=1", 1), notify.msgs)
        errors = [line for line in lines if '"level":"error"' in line or '"level":"fatal"' in line]
        self.assertEqual(errors, [], "errors in the dispatcher's log")

    def run_dispatcher(self, tmp):
        cl, info = self.fake_api()
        etc = self.etc_arvados(tmp, CONFIG % {
            "mgmt_token": cl.mgmt_token, "root_token": cl.root_token, "api_port": info["port"],
            "mgmt_port": cl.mgmt_port,
            "log_level": os.environ.get("ADC_PKG_LOG_LEVEL", "info")},
            '# as an operator would write it\nEXTRA_OPTS="-cloudd-user arvados-cloudd"\n')
        import demo_cluster
        shutil.copy(demo_cluster.CRUNCH_RUN, os.path.join(etc, "crunch-run"))
        rt = "/run/arvados-dispatch-cloud"
        self.assertEqual(os.listdir(rt), [], rt + " is in use")
        self.addCleanup(lambda: [shutil.rmtree(os.path.join(rt, e), True) or
                                 (os.path.islink(os.path.join(rt, e)) and
                                  os.unlink(os.path.join(rt, e))) for e in os.listdir(rt)])
        proc, lines, log, notify = self.start_unit(etc)
        # The process tree: unshare -> (exec) setpriv -> unit_seccomp_exec -> dispatcher.
        disp = proc.pid
        self.assertEqual(exe_of(disp), "/usr/bin/arvados-dispatch-cloud")
        st = proc_status(disp)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        caps = unit_exec.last(unit_exec.parse_unit(UNIT), "CapabilityBoundingSet").split()
        self.assertEqual(int(st["CapBnd"], 16), sum(1 << CAP_NUMBERS[c] for c in caps),
                         st["CapBnd"])
        helpers = {os.path.basename(exe_of(p)): p for p in children(disp)}
        self.assertEqual(set(helpers), {"cloudd", "sshd-pool"}, helpers)
        self.assertTrue(exe_of(helpers["cloudd"]).startswith(LIBEXEC + "/"))
        sp = proc_status(helpers["sshd-pool"])
        self.assertEqual(pwd.getpwuid(int(sp["Uid"].split()[0])).pw_name, "arvados-sshd-pool")
        self.assertEqual(sp["NoNewPrivs"], "1")
        self.assertGreaterEqual(int(sp["Seccomp_filters"]), 3)  # the unit's two and its own
        print("dispatcher pid %d ready under the unit's settings; helpers %s" % (disp, helpers))

        # cloudd's loopback driver keeps its private sshd directory in $RUNTIME_DIRECTORY. The
        # deploy directory is a plain directory beside it (ReadWritePaths of the unit): the
        # loopback instance runs commands outside cloudd's sandbox, as the reference does.
        deadline = time.monotonic() + 30
        while not glob.glob(rt + "/adc-loopback-*") and time.monotonic() < deadline:
            time.sleep(0.1)
        priv = glob.glob(rt + "/adc-loopback-*")
        self.assertTrue(priv, "cloudd made no private directory in $RUNTIME_DIRECTORY")

        rec = cl.run_container(["echo", "Hello, Crunch!"])
        uuid = rec["uuid"]
        self.assertEqual(rec.get("state"), "Complete", json.dumps(rec) + "\n" + log())
        self.assertEqual(rec.get("exit_code"), 0)
        self.assertEqual((rec.get("runtime_status") or {}).get("demoStdout"), "Hello, Crunch!\n")
        print("container %s: Complete, exit code 0, stdout %r" % (uuid, "Hello, Crunch!\n"))

        class Disp:
            pass
        cl.disp = Disp()
        cl.disp.proc = proc
        self.assertTrue(cl.kill_instances(timeout=30), "the instance was not destroyed\n" + log())
        # The loopback driver: the parent applies no sandbox of its own (only the unit's two
        # filters), and says so.
        self.assertEqual(st["Seccomp_filters"], "2")
        self.assertTrue(any("the dispatcher applies no sandbox to itself" in line
                            for line in lines))
        self.stop_unit(proc, lines, log, notify)

    def run_dispatcher_ec2(self, tmp):
        """The installed dispatcher under the unit with the ec2 driver, so with its own sandbox
        (the loopback run above has none): the unit's filters, mounts and capabilities and
        the parent's Landlock and seccomp together. It must say it confined itself, show a
        third seccomp filter, start both helpers from inside its policy, put an instance in
        the fake EC2 for a queued container and list both on the management API."""
        t0 = time.monotonic()
        sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
        import e2e_env
        cl, info = self.fake_api()
        e2e_env.make_ca(cl.dir)
        ec2 = e2e_env.FakeEC2(cl.dir)
        self.addCleanup(ec2.stop)
        etc = self.etc_arvados(tmp, CONFIG_EC2 % {
            "mgmt_token": cl.mgmt_token, "root_token": cl.root_token, "api_port": info["port"],
            "mgmt_port": cl.mgmt_port, "ssh_port": e2e_env.free_port(),
            "akid": e2e_env.AKID, "sak": e2e_env.SAK},
            'EXTRA_OPTS="-cloudd-user arvados-cloudd"\n'
            "AWS_ENDPOINT_URL_EC2=%s\nAWS_CA_BUNDLE=/etc/arvados/ca.pem\n"
            "AWS_EC2_METADATA_DISABLED=true\n" % ec2.endpoint)
        shutil.copy(os.path.join(cl.dir, "ca.pem"), os.path.join(etc, "ca.pem"))
        proc, lines, log, notify = self.start_unit(etc)
        disp = proc.pid
        self.assertEqual(exe_of(disp), "/usr/bin/arvados-dispatch-cloud")
        confined = [json.loads(line) for line in lines
                    if "sandbox: the dispatcher confined itself" in line]
        self.assertEqual(len(confined), 1, log())
        self.assertGreater(confined[0]["landlock_abi"], 0, "no Landlock on this kernel")
        st = proc_status(disp)
        self.assertEqual((st["NoNewPrivs"], st["Seccomp"], st["Seccomp_filters"]), ("1", "2", "3"),
                         "the unit's two filters and the parent's own")
        helpers = {os.path.basename(exe_of(p)): p for p in children(disp)}
        self.assertEqual(set(helpers), {"cloudd", "sshd-pool"}, helpers)
        for name, user in (("cloudd", "arvados-cloudd"), ("sshd-pool", "arvados-sshd-pool")):
            hs = proc_status(helpers[name])
            self.assertEqual(pwd.getpwuid(int(hs["Uid"].split()[0])).pw_name, user)
            self.assertEqual(int(hs["Seccomp_filters"]), 4, name + ": the parent's three and its own")

        uuid = cl.fake_call("POST", "containers", {
            "state": "Queued", "command": ["true"], "container_image": "arvados/jobs:latest",
            "output_path": "/out", "runtime_constraints": {"vcpus": 1, "ram": 1 << 20}})["uuid"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            live = [i for i in ec2.live() if i.get("instance_type") == "t3.small"]
            listed = [i for i in cl.instances() if i["instance"]]
            queued = cl.mgmt("GET", "/arvados/v1/dispatch/containers")["items"] or []
            if live and listed and any(c["container"]["uuid"] == uuid for c in queued):
                break
            time.sleep(0.3)
        self.assertTrue(live, "no instance created in the fake EC2; log:\n" + log())
        self.assertEqual([i["instance"] for i in listed], [live[0]["id"]], listed)
        self.assertEqual(listed[0]["arvados_instance_type"], "t3small")
        self.assertTrue(any(c["container"]["uuid"] == uuid for c in queued), queued)
        self.stop_unit(proc, lines, log, notify)
        print("ec2 driver under the unit: dispatcher pid %d confined itself (Landlock ABI %d, "
              "Seccomp_filters 3), instance %s created for %s (%.1f s)" % (
                  disp, confined[0]["landlock_abi"], live[0]["id"], uuid, time.monotonic() - t0))

    def installed_cloudtest(self, tmp):
        """The installed cloudtest, through the installed helpers, against loopback; and the
        installed man page."""
        key = os.path.join(tmp, "ct_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        cfg = os.path.join(tmp, "ct.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG.replace("/etc/arvados/dispatch_key", key).replace(
                '"/etc/arvados/crunch-run"', '""') % {
                "mgmt_token": "m" * 32, "root_token": "r" * 40, "api_port": 1, "mgmt_port": 0,
                "log_level": "info"})
        rt = os.path.join(tmp, "ct-run")
        os.mkdir(rt, 0o700)
        r = run(["/usr/bin/arvados-dispatch-cloud", "cloudtest", "-config", cfg,
                 "-command", "echo installed"], env=dict(os.environ, RUNTIME_DIRECTORY=rt),
                stdin=subprocess.DEVNULL, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r'msg="remote command succeeded" .*stdout="installed\\n"')
        self.assertIn('msg="instance no longer appears in list"', r.stderr)
        print("installed cloudtest (loopback): exit 0")
        r = run(["man", "-w", "arvados-dispatch-cloud"])
        self.assertEqual(r.stdout.strip(), "/usr/share/man/man8/arvados-dispatch-cloud.8.gz")

    # ---- 5: purge ---------------------------------------------------------------------------

    def purge(self, listed):
        r = run(APT + ["purge", PKG])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(installed())
        shared = {"/", "/lib", "/usr", "/usr/bin", "/usr/lib", "/usr/libexec", "/usr/share",
                  "/usr/share/doc", "/usr/share/man", "/usr/share/man/man8", "/lib/systemd",
                  "/lib/systemd/system", "/usr/lib/sysusers.d", "/."}
        left = sorted(p for p in listed - shared if os.path.lexists(p))
        self.assertEqual(left, [], "files of the package left after purge")
        self.assertEqual(glob.glob("/etc/systemd/system/*/arvados-dispatch-cloud.service"), [])
        self.assertFalse(os.path.exists("/var/lib/systemd/deb-systemd-helper-enabled/"
                                        "arvados-dispatch-cloud.service.dsh-also"))

    def test_build_install_run_purge(self):
        t0 = time.monotonic()
        deb = self.build()
        self.lint()
        self.inspect(deb)
        # The installed package is one per machine: a second test run (another checkout) must
        # not install over it, or purge it, while this one runs it.
        with machine_lock(PACKAGE_LOCK):
            listed = self.install(deb)
            self.unit_checks()
            with tempfile.TemporaryDirectory() as tmp, machine_lock(LOOPBACK_LOCK):
                self.run_dispatcher(tmp)
            with tempfile.TemporaryDirectory() as tmp:
                self.run_dispatcher_ec2(tmp)
            with tempfile.TemporaryDirectory() as tmp:
                self.installed_cloudtest(tmp)
            self.purge(listed)
        print("test_deb: %.0f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
