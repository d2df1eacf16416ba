"""test_unit.py - packaging/arvados-dispatch-cloud.service without installing anything:
every line of the reference's unit (spec/dispatcher.md 1.5) is there unchanged, and
`systemd-analyze security --offline=true` scores it under 4 (the score is printed; the
reference's unit scores 9.6 UNSAFE). test_deb also runs `systemd-analyze verify` on the
installed unit, and runs the dispatcher under the unit's settings.
/usr/bin/python3, standard library only."""
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
UNIT = os.path.join(SRC, "packaging", "arvados-dispatch-cloud.service")
sys.path.insert(0, HERE)
import unit_exec  # noqa: E402

REFERENCE = [
    ("Unit", "Description", "arvados-dispatch-cloud"),
    ("Unit", "Documentation", "https://doc.arvados.org/"),
    ("Unit", "After", "network.target"),
    ("Unit", "AssertPathExists", "/etc/arvados/config.yml"),
    ("Unit", "StartLimitIntervalSec", "0"),
    ("Service", "Type", "notify"),
    ("Service", "EnvironmentFile", "-/etc/arvados/environment"),
    ("Service", "ExecStart", "/usr/bin/arvados-dispatch-cloud $EXTRA_OPTS"),
    ("Service", "Restart", "always"),
    ("Service", "RestartSec", "1"),
    ("Service", "RestartPreventExitStatus", "2"),
    ("Service", "Environment", "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"),
    ("Install", "WantedBy", "multi-user.target"),
]


class UnitTest(unittest.TestCase):
    def test_reference_lines(self):
        u = unit_exec.parse_unit(UNIT)
        for sect, key, val in REFERENCE:
            self.assertIn(val, unit_exec.values(u, key, sect), "%s=%s" % (key, val))
        for key in ("User", "DynamicUser", "ExecReload", "TimeoutStartSec"):
            self.assertEqual(unit_exec.values(u, key), [], key)

    def test_exposure(self):
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", UNIT],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        print("systemd-analyze security --offline=true: exposure %s %s" % (m.group(1),
                                                                          m.group(2)))
        self.assertLess(float(m.group(1)), 4.0)

    def test_helpers_lockdown_allowed(self):
        """What the helpers call to lock themselves down must pass the unit's filter."""
        allow = unit_exec.syscall_allow_list(unit_exec.parse_unit(UNIT))
        for call in ("seccomp", "prctl", "setresuid", "setresgid", "setgroups",
                     "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
                     "execve", "memfd_create", "socketpair", "chroot"):
            self.assertIn(call, allow)
        for call in ("mount", "ptrace", "init_module", "kexec_load", "reboot", "swapon"):
            self.assertNotIn(call, allow)


if __name__ == "__main__":
    unittest.main(verbosity=2)
