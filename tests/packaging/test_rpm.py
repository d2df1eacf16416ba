"""test_rpm.py - the RPM (issue 14, docs/PACKAGING.md).

  1. `packaging/build-package.sh rpm` (what `make rpm` runs) builds it; rpmlint, with the
     overrides of packaging/rpm/arvados-dispatch-cloud.rpmlintrc (one reason each), reports
     no error and no warning.
  2. Its file list, automatic library requirements and scriptlets are as promised;
     /etc/arvados/config.yml is not in it.
  3. It installs into a scratch root with `rpm --root`, verifies there (`rpm -V`) and
     erases without leaving a file. --nodeps --noscripts: the scratch root has an empty rpm
     database (so no libc "provided") and no /bin/sh to run scriptlets with.
  4. So the %pre scriptlet is run by itself, in a mount namespace where /etc/passwd and
     friends are copies without the two users: it creates both (system users, nologin, no
     home). %post and %preun do nothing without a running systemd and exit 0.

Needs root (the mount namespace). /usr/bin/python3, standard library only.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.environ.get("ADC_PKG_OUT") or os.path.join(SRC, "build-pkg", "test-rpm")
RPMLINTRC = os.path.join(SRC, "packaging", "rpm", "arvados-dispatch-cloud.rpmlintrc")

EXPECTED = {
    "/usr/bin/arvados-dispatch-cloud",
    "/usr/libexec/arvados-dispatch-cloud",
    "/usr/libexec/arvados-dispatch-cloud/cloudd",
    "/usr/libexec/arvados-dispatch-cloud/sshd-pool",
    "/usr/lib/systemd/system/arvados-dispatch-cloud.service",
    "/usr/lib/sysusers.d/arvados-dispatch-cloud.conf",
    "/usr/share/man/man8/arvados-dispatch-cloud.8.gz",
    "/usr/share/man/man8/cloudd.8.gz",
    "/usr/share/man/man8/sshd-pool.8.gz",
    "/usr/share/arvados-dispatch-cloud",
    "/usr/share/arvados-dispatch-cloud/grafana",
    "/usr/share/arvados-dispatch-cloud/grafana/arvados-dispatch-cloud.json",
}
LIBS = ("libuv.so.1", "libcurl.so.4", "libssh.so.4", "libfyaml.so.0", "libcjson.so.1",
        "libsystemd.so.0", "libseccomp.so.2", "libexpat.so.1", "libmicrohttpd.so.12",
        "libmbedcrypto.so.7", "libc.so.6")
USERS = ("arvados-cloudd", "arvados-sshd-pool")


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(argv, **kw)


def scriptlets(rpm):
    """{'preinstall': text, 'postinstall': ..., 'preuninstall': ..., 'postuninstall': ...}"""
    text = run(["rpm", "-qp", "--scripts", rpm], check=True).stdout
    out, cur = {}, None
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(\w+) scriptlet \(using (\S+)\):$", line.strip())
        if m:
            cur = m.group(1)
            out[cur] = ""
            continue
        if cur:
            out[cur] += line
    return out


@unittest.skipUnless(os.geteuid() == 0, "the %pre check uses a mount namespace: needs root")
class RpmTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        shutil.rmtree(OUT, ignore_errors=True)
        r = run([os.path.join(SRC, "packaging", "build-package.sh"), "rpm", OUT])
        if r.returncode != 0:
            raise AssertionError("build-package.sh rpm failed:\n" + r.stdout + r.stderr)
        rpms = glob.glob(os.path.join(OUT, "arvados-dispatch-cloud-*.rpm"))
        assert len(rpms) == 1, rpms
        cls.rpm = rpms[0]
        print("package: %s, %d bytes (built in %.0f s)" % (
            os.path.basename(cls.rpm), os.path.getsize(cls.rpm), time.monotonic() - t0))

    def test_rpmlint(self):
        r = run(["rpmlint", "-r", RPMLINTRC, self.rpm])
        print("rpmlint: rc %d\n%s" % (r.returncode, r.stdout + r.stderr))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 errors, 0 warnings", r.stdout)

    def test_files_and_requires(self):
        files = set(run(["rpm", "-qpl", self.rpm], check=True).stdout.split())
        files = {f for f in files if not f.startswith("/usr/lib/.build-id")}
        self.assertEqual(files, EXPECTED)
        self.assertEqual(run(["rpm", "-qpc", self.rpm]).stdout.strip(), "",
                         "no config file is shipped")
        req = run(["rpm", "-qp", "--requires", self.rpm], check=True).stdout
        for lib in LIBS:
            self.assertRegex(req, r"(?m)^%s\(\)\(64bit\)$" % re.escape(lib))
        for dep in ("systemd", "shadow-utils"):
            self.assertRegex(req, r"(?m)^%s$" % dep)

    def test_scriptlets(self):
        s = scriptlets(self.rpm)
        self.assertEqual(set(s), {"preinstall", "postinstall", "preuninstall", "postuninstall"})
        for u in USERS:
            self.assertIn("useradd -r -g %s -d / -s /usr/sbin/nologin" % u, s["preinstall"])
        post = s["postinstall"]
        order = [post.find(x) for x in ("daemon-reload", "systemctl enable", "systemctl start",
                                        "systemctl reload-or-try-restart")]
        self.assertTrue(all(i >= 0 for i in order) and order == sorted(order), post)
        order = [s["preuninstall"].find(x) for x in ("systemctl stop", "systemctl disable")]
        self.assertTrue(all(i >= 0 for i in order) and order == sorted(order), s["preuninstall"])
        self.assertIn("daemon-reload", s["postuninstall"])
        for text in s.values():
            self.assertNotIn("/etc/arvados", text)
        # Without a running systemd (as here: no /run/systemd/system) they do nothing.
        if not os.path.isdir("/run/systemd/system"):
            for name in ("postinstall", "preuninstall", "postuninstall"):
                for arg in ("1", "2", "0"):
                    r = run(["sh", "-e", "-c", s[name], name, arg])
                    self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""), name)

    def test_pre_creates_users(self):
        pre = scriptlets(self.rpm)["preinstall"]
        # shadow's tools replace /etc/passwd by rename, so the whole of /etc is a copy. Other
        # tests change the live /etc meanwhile (packaging_deb installs and purges its package,
        # useradd leaves and removes lock and backup files): a file that vanishes during the
        # copy was a passing one, and only such misses are let through.
        with tempfile.TemporaryDirectory() as d:
            etc = os.path.join(d, "etc")
            r = run(["cp", "-a", "/etc", etc])
            missed = [l for l in r.stderr.splitlines() if l]
            self.assertTrue(r.returncode == 0 or missed and all(
                "No such file or directory" in l for l in missed), r.stderr)
            for f in ("passwd", "group", "shadow", "gshadow"):
                with open("/etc/" + f) as src, open(os.path.join(etc, f), "w") as dst:
                    dst.writelines(line for line in src
                                   if line.split(":", 1)[0] not in USERS)
            script = "mount --bind %s /etc && sh -e -c \"$1\" pre 1" % etc
            r = run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", pre])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(etc, "passwd")) as f:
                passwd = f.read()
            with open(os.path.join(etc, "group")) as f:
                group = f.read()
        for u in USERS:
            m = re.search(r"(?m)^%s:x:(\d+):(\d+):[^:]*:/:/usr/sbin/nologin$" % u, passwd)
            self.assertIsNotNone(m, passwd)
            self.assertLess(int(m.group(1)), 1000, "a system user")
            self.assertNotEqual(int(m.group(1)), 0)
            self.assertRegex(group, r"(?m)^%s:x:%s:" % (u, m.group(2)))

    def test_scratch_root(self):
        with tempfile.TemporaryDirectory() as root:
            r = run(["rpm", "--root", root, "--nodeps", "--noscripts", "-i", self.rpm])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            for f in EXPECTED:
                self.assertTrue(os.path.lexists(root + f), f)
            for f in ("/usr/bin/arvados-dispatch-cloud",
                      "/usr/libexec/arvados-dispatch-cloud/cloudd",
                      "/usr/libexec/arvados-dispatch-cloud/sshd-pool"):
                self.assertTrue(os.access(root + f, os.X_OK), f)
                self.assertNotIn("not stripped", run(["file", root + f], check=True).stdout)
            r = run(["rpm", "--root", root, "-V", "--nodeps", "arvados-dispatch-cloud"])
            self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)
            self.assertFalse(os.path.exists(root + "/etc/arvados"))
            r = run(["rpm", "--root", root, "--nodeps", "--noscripts", "-e",
                     "arvados-dispatch-cloud"])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            left = [os.path.join(dp, f) for dp, _, fs in os.walk(root + "/usr") for f in fs]
            self.assertEqual(left, [], "files left after rpm -e")


if __name__ == "__main__":
    unittest.main(verbosity=2)
