"""queue_testlib - run queue_driver (tests/queue/queue_driver.c) against fake_arvados."""
import json
import os
import queue as pyqueue
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fake_arvados"))

from fakearv_testlib import FakeServer, ROOT  # noqa: E402

DRIVER = os.environ.get("QUEUE_DRIVER") or os.path.join(HERE, "..", "..", "build", "bin", "queue_driver")
AUTH_UUID = "zzzzz-gj3su-000000000000000"

INSTANCE_TYPES = """
    InstanceTypes:
      small:
        ProviderType: t3.small
        VCPUs: 2
        RAM: 4GiB
        IncludedScratch: 20GB
        Price: 0.02
      big:
        ProviderType: m5.4xlarge
        VCPUs: 16
        RAM: 64GiB
        IncludedScratch: 200GB
        Price: 0.8
"""


def write_config(path, url, poll="200ms", extra=""):
	with open(path, "w") as f:
		f.write("""Clusters:
  zzzzz:
    SystemRootToken: %s
    ManagementToken: mgmttoken0123456789mgmttoken0123456789
    Services:
      Controller:
        ExternalURL: "%s"
      DispatchCloud:
        InternalURLs:
          "http://127.0.0.1:9006": {}
    API:
      MaxConcurrentRequests: 64
    Containers:
      CloudVMs:
        PollInterval: %s
        Driver: ec2
%s%s""" % (ROOT, url, poll, extra, INSTANCE_TYPES))


class Driver:
	"""queue_driver as a subprocess: commands in, JSON lines out (events and replies)."""

	def __init__(self, config, env=None):
		e = dict(os.environ)
		e.update(env or {})
		self.stderr = tempfile.TemporaryFile(mode="w+")
		self.proc = subprocess.Popen([DRIVER, config], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
					     stderr=self.stderr, text=True, env=e)
		self.lines = pyqueue.Queue()
		self.events = []
		self.t = threading.Thread(target=self._reader, daemon=True)
		self.t.start()

	def _reader(self):
		for line in self.proc.stdout:
			self.lines.put(json.loads(line))
		self.lines.put(None)

	def _next(self, timeout):
		m = self.lines.get(timeout=timeout)
		if m is None:
			raise AssertionError("queue_driver exited: " + self.logtext()[-2000:])
		return m

	def cmd(self, line, timeout=30):
		self.proc.stdin.write(line + "\n")
		self.proc.stdin.flush()
		deadline = time.time() + timeout
		while True:
			m = self._next(max(0.1, deadline - time.time()))
			if "reply" in m:
				return m
			self.events.append(m)

	def wait_event(self, pred, timeout=60):
		"""The first event (already received or new) matching pred; consumed."""
		deadline = time.time() + timeout
		while True:
			for i, ev in enumerate(self.events):
				if pred(ev):
					del self.events[i]
					return ev
			left = deadline - time.time()
			if left <= 0:
				raise AssertionError("timed out waiting for an event; log tail: " + self.logtext()[-3000:])
			try:
				m = self._next(left)
			except pyqueue.Empty:
				continue
			if "reply" not in m:
				self.events.append(m)

	def wait_polls(self, n=1, timeout=60):
		"""Wait until polls_ok >= n; returns that poll event."""
		return self.wait_event(lambda e: e.get("event") == "poll" and e["ok"] and e["polls_ok"] >= n, timeout)

	def next_poll(self, timeout=60):
		"""The next successful poll that starts after now."""
		cur = self.cmd("stats")["polls_ok"]
		self.events = [e for e in self.events if e.get("event") != "poll"]
		return self.wait_polls(cur + 2, timeout)

	def settle(self, timeout=60):
		"""Wait until every mounts fetch is done and one more poll completed."""
		deadline = time.time() + timeout
		while True:
			s = self.cmd("stats")
			if s["pending_mounts"] == 0 and s["mounts_in_flight"] == 0:
				break
			if time.time() > deadline:
				raise AssertionError("mounts never settled: %r" % s)
			time.sleep(0.05)
		return self.next_poll(timeout)

	def dump(self):
		return self.cmd("dump")["queue"]

	def entries(self):
		return {e["uuid"]: e for e in self.dump()["entries"]}

	def op(self, op, uuid, text=None, timeout=30):
		r = self.cmd("%s %s%s" % (op, uuid, (" " + text) if text else ""))
		if r["rc"] != 0:
			return {"rc": r["rc"]}
		ev = self.wait_event(lambda e: e.get("event") == "op" and e["uuid"] == uuid and e["op"] == op, timeout)
		ev["rc"] = 0
		return ev

	def logtext(self):
		if self.stderr.closed:
			return ""
		self.stderr.seek(0)
		return self.stderr.read()

	def loglines(self):
		out = []
		for line in self.logtext().splitlines():
			try:
				out.append(json.loads(line))
			except ValueError:
				pass
		return out

	def quit(self):
		if self.proc.poll() is None:
			try:
				self.cmd("quit", timeout=10)
			except (AssertionError, BrokenPipeError, pyqueue.Empty):
				pass
			try:
				rc = self.proc.wait(10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				rc = self.proc.wait()
		else:
			rc = self.proc.returncode
		self.proc.stdin.close()
		self.t.join(5)
		self.proc.stdout.close()
		self.stderr.close()
		return rc
