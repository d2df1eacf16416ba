#!/usr/bin/python3
"""A real PostgreSQL server for tests (Debian's postgresql package): initdb in a temporary
directory, run as an unprivileged user (the package's `postgres` when we are root, else
ourselves), listening on 127.0.0.1 only, password (md5) authentication.

As a module:  pg = PgServer(port); pg.start(); pg.psql("select 1"); pg.restart(); pg.stop()
As a script:  pg_fixture.py start DIR PORT   (prints the connection as key=value words)
              pg_fixture.py stop DIR
"""
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from free_ports import free_port  # noqa: E402,F401 (pg_fixture.free_port for the tests)

USER = "arvados"
PASSWORD = "pg-test-password-Qx7"
DBNAME = "arvados"


def pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not dirs:
        raise RuntimeError("PostgreSQL server not installed (Debian package postgresql); "
                           "run scripts/install-deps.sh")
    return os.path.dirname(dirs[-1])


class PgServer:
    def __init__(self, port=None, base=None):
        self.port = port or free_port()
        self.bindir = pg_bindir()
        self.owned = base is None
        self.base = base or tempfile.mkdtemp(prefix="adc-pg-")
        self.data = os.path.join(self.base, "data")
        self.runas = None
        if os.geteuid() == 0:
            self.runas = "postgres"
            pw = pwd.getpwnam(self.runas)
            os.chmod(self.base, 0o755)
            os.makedirs(self.data, mode=0o700, exist_ok=True)
            os.chown(self.data, pw.pw_uid, pw.pw_gid)

    def _run(self, argv, check=True, **kw):
        if self.runas:
            argv = ["setpriv", "--reuid", self.runas, "--regid", self.runas,
                    "--init-groups", "--"] + argv
        return subprocess.run(argv, check=check, capture_output=True, text=True,
                              cwd="/", **kw)

    def conn(self):
        return {"host": "127.0.0.1", "port": str(self.port), "user": USER,
                "password": PASSWORD, "dbname": DBNAME, "sslmode": "disable"}

    def start(self):
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            pwfile = os.path.join(self.base, "pw")
            with open(pwfile, "w") as f:
                f.write(PASSWORD + "\n")
            os.chmod(pwfile, 0o644)
            self._run([self.bindir + "/initdb", "-D", self.data, "-A", "md5",
                       "--pwfile=" + pwfile, "-U", USER, "--no-sync"])
            os.unlink(pwfile)
            self._pg_ctl_start()
            self.psql("create database " + DBNAME, db="postgres")
        else:
            self._pg_ctl_start()
        return self

    def _pg_ctl_start(self):
        self._run([self.bindir + "/pg_ctl", "-D", self.data, "-w", "-t", "30",
                   "-o", "-p %d -k %s -h 127.0.0.1 -c fsync=off" % (self.port, self.data),
                   "-l", os.path.join(self.data, "log"), "start"])

    def stop(self, mode="immediate"):
        self._run([self.bindir + "/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"],
                  check=False)

    def restart(self, down_s=0.0):
        self.stop("immediate")
        time.sleep(down_s)
        self._pg_ctl_start()

    def cleanup(self):
        self.stop()
        if self.owned:
            shutil.rmtree(self.base, ignore_errors=True)

    def psql_argv(self, db=DBNAME):
        return ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", USER, "-d", db]

    def env(self):
        e = dict(os.environ)
        e["PGPASSWORD"] = PASSWORD
        return e

    def psql(self, sql, db=DBNAME):
        r = subprocess.run(self.psql_argv(db) + ["-c", sql], env=self.env(),
                           capture_output=True, text=True, check=True, timeout=30)
        return r.stdout.strip()

    def holder(self):
        """A psql session that takes lock 10005 and keeps it until close()."""
        p = subprocess.Popen(self.psql_argv(), env=self.env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        p.stdin.write("select pg_advisory_lock(10005);\nselect 'locked';\n")
        p.stdin.flush()
        out = ""
        while True:
            line = p.stdout.readline()
            if line.strip() == "locked":
                return p
            out += line
            if line == "":
                raise RuntimeError("psql holder: " + out)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "start":
        srv = PgServer(int(sys.argv[3]), base=sys.argv[2]).start()
        print(" ".join("%s=%s" % kv for kv in srv.conn().items()))
    elif len(sys.argv) >= 3 and sys.argv[1] == "stop":
        PgServer(1, base=sys.argv[2]).stop()
    else:
        sys.exit(__doc__)
