"""fake_dns - a DNS server on a loopback address for one process run in its own mount
namespace, whose /etc/resolv.conf names that server (the machine's resolver is untouched).
Messages are read and written by dnspython (Debian's python3-dnspython). Names in `held` are
answered only after release(), with an A record 127.0.0.1 (no AAAA); every other name gets
NXDOMAIN at once. The process goes through the real glibc resolver (getaddrinfo). Needs root
(unshare -m, mount --bind, port 53)."""
import os
import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

ADDR = "127.0.53.1"


class FakeDns:
    def __init__(self, tmpdir, held=()):
        self.held = {n.lower().rstrip(".") for n in held}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ADDR, 53))
        self.sock.settimeout(0.2)
        self.queries = []  # (name, type) in arrival order
        self.answered = set()  # held names answered
        self.waiting = []  # held queries: (message, client address)
        self.released = False
        self.cv = threading.Condition()
        self.stopping = threading.Event()
        self.resolv = os.path.join(tmpdir, "resolv.conf")
        with open(self.resolv, "w") as f:
            # A held lookup waits for release(): give it glibc's longest timeout.
            f.write("nameserver %s\noptions timeout:30 attempts:1\n" % ADDR)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def prefix(self):
        """argv prefix: run the command with this server as its resolver."""
        return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                self.resolv]

    def _answer(self, q, client):
        r = dns.message.make_response(q)
        qq = q.question[0]
        name = qq.name.to_text(omit_final_dot=True).lower()
        if name in self.held:
            if qq.rdtype == dns.rdatatype.A:
                r.answer.append(dns.rrset.from_text(qq.name, 60, "IN", "A", "127.0.0.1"))
            self.answered.add(name)
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
        self.sock.sendto(r.to_wire(), client)

    def _serve(self):
        while not self.stopping.is_set():
            try:
                data, client = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - not DNS: ignore
                continue
            if not q.question:
                continue
            qq = q.question[0]
            name = qq.name.to_text(omit_final_dot=True).lower()
            with self.cv:
                self.queries.append((name, dns.rdatatype.to_text(qq.rdtype)))
                if name in self.held and not self.released:
                    self.waiting.append((q, client))
                else:
                    self._answer(q, client)
                self.cv.notify_all()

    def lookups(self, name):
        """How many A queries for name arrived (one per getaddrinfo call)."""
        with self.cv:
            return sum(1 for n, t in self.queries if n == name and t == "A")

    def wait_lookups(self, name, count=1, timeout=20.0):
        with self.cv:
            if not self.cv.wait_for(lambda: sum(
                    1 for n, t in self.queries if n == name and t == "A") >= count, timeout):
                raise AssertionError("fewer than %d lookups of %s within %.0fs: %r" % (
                    count, name, timeout, self.queries))

    def release(self):
        with self.cv:
            self.released = True
            for q, client in self.waiting:
                self._answer(q, client)
            self.waiting = []

    def close(self):
        self.release()
        self.stopping.set()
        self.thread.join()
        self.sock.close()
