"""test_man.py - the man pages (packaging/man/*.scd, turned into roff by the build).

  - `groff -ww` and `man --warnings -l` render each without a single warning;
  - `mandoc -T lint` finds no error and no warning, except "skipping paragraph macro"
    (scdoc puts a .PP after each .SH and before each .RE: harmless, rendered the same);
  - arvados-dispatch-cloud(8) names every flag of the command line (dispatcherd/cli/cli.c),
    every `instance` subcommand (dispatcherd/cli/instance_cli.c) and every cloudtest flag
    (dispatcherd/app/cloudtest*.c), so a flag added without its documentation fails here.
/usr/bin/python3, standard library only."""
import glob
import os
import re
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
MAN_DIR = os.environ.get("ADC_MAN_DIR") or os.path.join(SRC, "build", "man")
PAGES = ("arvados-dispatch-cloud.8", "cloudd.8", "sshd-pool.8")
ALLOWED_MANDOC = re.compile(r"WARNING: skipping paragraph macro: PP (after SH|empty)$")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True,
                          env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80"), **kw)


def rendered(page):
    return run(["man", "-l", os.path.join(MAN_DIR, page)]).stdout


class ManTest(unittest.TestCase):
    def test_groff_and_man_clean(self):
        for p in PAGES:
            path = os.path.join(MAN_DIR, p)
            r = run(["groff", "-ww", "-man", "-Tutf8", "-z", path])
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), p)
            r = run(["man", "--warnings", "-l", path])
            self.assertEqual((r.returncode, r.stderr), (0, ""), p)
            self.assertIn("NAME", r.stdout)

    def test_mandoc_lint(self):
        for p in PAGES:
            r = run(["mandoc", "-T", "lint", "-W", "warning", os.path.join(MAN_DIR, p)])
            bad = [line for line in (r.stdout + r.stderr).splitlines()
                   if not ALLOWED_MANDOC.search(line)]
            self.assertEqual(bad, [], p)
            r = run(["mandoc", "-T", "lint", "-W", "error", os.path.join(MAN_DIR, p)])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def flags_of(self, pattern_path, pattern):
        paths = sorted(glob.glob(os.path.join(SRC, pattern_path)))
        self.assertTrue(paths, pattern_path)
        out = []
        for path in paths:
            with open(path) as f:
                out += re.findall(pattern, f.read())
        return out

    def test_flags_documented(self):
        text = rendered("arvados-dispatch-cloud.8")
        flags = self.flags_of("dispatcherd/cli/cli.c", r'\{ "([a-z-]+)", (?:true|false), ')
        self.assertIn("config", flags)
        for f in flags:
            self.assertIn("-" + f, text, "flag -%s of cli.c" % f)
        subs = self.flags_of("dispatcherd/cli/instance_cli.c", r'\{ "([a-z]+)", (?:true|false), ')
        self.assertEqual(sorted(subs), ["drain", "hold", "kill", "list", "run"])
        for s in subs:
            self.assertRegex(text, r"instance .*%s" % s)
        for f in ("header", "reason"):
            self.assertIn("-" + f, text)
        cflags = self.flags_of("dispatcherd/app/cloudtest*.c", r'CT_FLAG\("([a-z-]+)"')
        self.assertIn("instance-type", cflags)
        for f in cflags:
            self.assertIn("-" + f, text, "cloudtest flag -%s" % f)
        for page in ("cloudd.8", "sshd-pool.8"):
            t = rendered(page)
            for f in ("-cluster-id", "-log-format", "-log-level", "-user",
                      "-insecure-no-sandbox"):
                self.assertIn(f, t, page)


if __name__ == "__main__":
    unittest.main(verbosity=2)
