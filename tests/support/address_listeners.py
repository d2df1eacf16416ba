"""address_listeners.py - one HTTP listener per cloud instance, on the instance's private IP and
one fixed port, for the fakes' per-instance metadata services (the fake EC2's IMDSv2,
tests/fake_ec2/ec2_imds.py; the fake Azure's Scheduled Events, tests/fake_azure/azure_events.py).

On a cloud a VM reaches its own metadata at one fixed address and the hypervisor knows which VM
asked. Here a worker of the test rig reaches the listener of its own instance because the
instance's private IP is the worker's own address, so which listener answered tells the fake
which instance asked. A listener opens once its instance is live with a private IP and closes
when it no longer is; the set is brought up to date ten times a second.

The handler finds its service as self.server.owner and its instance as self.server.ident.
"""
import threading
import time
from http.server import ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class AddressListeners:
    def __init__(self, port, handler, owner, want):
        """want(): {key: (ident, ip)} of the instances that should have a listener now; key is
        how the set names the instance (as_json's "listening"), ident what the handler gets."""
        self.port, self.handler, self.owner, self.want = port, handler, owner, want
        self.servers = {}  # key -> _Server
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:  # for the fake's whole life (a daemon thread)
            time.sleep(0.1)
            self.sync()

    def sync(self):
        want = self.want()
        for key in [k for k in self.servers if k not in want]:
            srv = self.servers[key]
            srv.shutdown()
            srv.server_close()
            del self.servers[key]  # only now: "listening" never names a closed listener
        for key, (ident, ip) in want.items():
            if key in self.servers:
                continue
            try:
                srv = _Server((ip, self.port), self.handler)
            except OSError:
                continue  # the address is not up yet or the port is busy: next round
            srv.owner, srv.ident = self.owner, ident
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            self.servers[key] = srv

    def listening(self):
        """The keys of the open listeners, sorted."""
        return sorted(list(self.servers))  # list(): one atomic copy while sync() may change it
