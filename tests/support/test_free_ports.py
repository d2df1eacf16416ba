#!/usr/bin/python3
"""free_ports.free_port: ports from outside the kernel's ephemeral range, never one that
another live process picked, never one somebody is bound to (issue 18)."""
import os
import socket
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import free_ports  # noqa: E402

# A child that picks every port of a small range and holds them until its stdin closes.
HOLDER = """
import sys
sys.path.insert(0, %r)
import free_ports
free_ports.candidate_ports = lambda: range(%d, %d)
print(" ".join(str(free_ports.free_port()) for _ in range(%d)), flush=True)
sys.stdin.read()
"""


class FreePortTest(unittest.TestCase):
    def test_outside_ephemeral_range(self):
        first, last = free_ports.ephemeral_range()
        ports = [free_ports.free_port() for _ in range(50)]
        for p in ports:
            self.assertFalse(first <= p <= last, (p, first, last))
            self.assertGreaterEqual(p, free_ports.LOW)
        self.assertEqual(len(set(ports)), 50, "a process never gets one port twice")
        # The reservations are this process's: a rig address and 127.0.0.1 both see them.
        p = free_ports.free_port("127.145.1.4")
        self.assertNotIn(p, ports)
        for q in ports + [p]:
            free_ports.release(q)

    def test_not_a_port_another_process_holds(self):
        """Another live process's picks are out of bounds until it ends; then they are free."""
        base = free_ports.candidate_ports()[0] + os.getpid() % 5000
        child = subprocess.Popen([sys.executable, "-c", HOLDER % (HERE, base, base + 4, 4)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            held = sorted(int(x) for x in child.stdout.readline().split())
            self.assertEqual(held, list(range(base, base + 4)))
            old = free_ports.candidate_ports
            free_ports.candidate_ports = lambda: range(base, base + 5)
            try:
                self.assertEqual(free_ports.free_port(), base + 4)
                free_ports.release(base + 4)
                child.stdin.close()
                child.wait(10)
                got = {free_ports.free_port() for _ in range(5)}
                self.assertEqual(got, set(range(base, base + 5)))
                for q in got:
                    free_ports.release(q)
            finally:
                free_ports.candidate_ports = old
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()

    def test_not_a_bound_port(self):
        """A port somebody bound without reserving it (a fixed port, a listener on 0.0.0.0) is
        skipped."""
        base = free_ports.candidate_ports()[0] + 5000 + os.getpid() % 5000
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", base))
        s.listen(1)
        old = free_ports.candidate_ports
        free_ports.candidate_ports = lambda: range(base, base + 2)
        try:
            self.assertEqual(free_ports.free_port("127.145.1.4"), base + 1)
            free_ports.release(base + 1)
        finally:
            free_ports.candidate_ports = old
            s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
