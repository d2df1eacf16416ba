"""test_instcli - `arvados-dispatch-cloud instance ...` (spec/dispatcher.md 7.3) against the real
management HTTP server (instcli_server.c: http_server + mgmt_api with fake pool providers).

Run by ctest (INSTCLI_SERVER and ADC_BIN name the two programs); both are built with ASan and
UBSan in the test build, and the server must exit 0 (no leak, no sanitizer report) at the end.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from free_ports import free_port  # noqa: E402

BUILD = os.path.join(HERE, "..", "..", "build", "bin")
SERVER = os.environ.get("INSTCLI_SERVER") or os.path.join(BUILD, "instcli_server")
ADC = os.environ.get("ADC_BIN") or os.path.join(BUILD, "arvados-dispatch-cloud")

TOKEN = "mgmttoken0123456789abcdefghijklmnopq"
C1, C2, C3 = ("zzzzz-dz642-%s" % (c * 15) for c in "abc")

VIEWS_A = [
	{"instance": "i-0abc", "address": "10.0.0.7", "price": 0.096, "arvados_instance_type": "m5large",
	 "provider_instance_type": "m5.large", "last_container_uuid": C2,
	 "last_busy": "2025-01-13T15:20:21.775019617Z", "running_container_uuids": [C1, C2],
	 "worker_state": "running", "idle_behavior": "run"},
	# booting: no address yet, no containers ([] and null both mean none)
	{"instance": "i-0def", "address": "", "price": 0.5, "arvados_instance_type": "c5xl",
	 "provider_instance_type": "c5.xlarge", "last_container_uuid": "",
	 "last_busy": "0001-01-01T00:00:00Z", "running_container_uuids": [],
	 "worker_state": "booting", "idle_behavior": "hold"},
	# a pending create: no instance ID either
	{"instance": "", "address": "", "price": 1.25, "arvados_instance_type": "gpu",
	 "provider_instance_type": "g4dn.xlarge", "running_container_uuids": None,
	 "worker_state": "booting", "idle_behavior": "run"},
	# six decimals, rounded; fields absent are zero values
	{"instance": "i-0123", "address": "10.0.0.9", "price": 0.1234567,
	 "running_container_uuids": [C3], "worker_state": "running", "idle_behavior": "drain"},
]
LINES_A = [
	"i-0abc\t10.0.0.7\trunning\trun\tm5large\tm5.large\t0.096000\t%s,%s" % (C1, C2),
	"i-0def\t-\tbooting\thold\tc5xl\tc5.xlarge\t0.500000\t-",
	"-\t-\tbooting\trun\tgpu\tg4dn.xlarge\t1.250000\t-",
	"i-0123\t10.0.0.9\trunning\tdrain\t\t\t0.123457\t%s" % C3,
]
VIEWS_B = [
	{"instance": "i-b1", "address": "10.1.0.1", "price": 2, "arvados_instance_type": "big",
	 "provider_instance_type": "m5.4xlarge", "running_container_uuids": [],
	 "worker_state": "idle", "idle_behavior": "run"},
]
LINES_B = ["i-b1\t10.1.0.1\tidle\trun\tbig\tm5.4xlarge\t2.000000\t-"]
HEADER = "instance\taddress\tstate\tidle-behavior\tconfig-type\tprovider-type\tprice\trunning-containers"


class Server:
	"""One instcli_server process with its own instance views and logs."""

	def __init__(self, tmp, name, views, token=TOKEN):
		self.dir = os.path.join(tmp, name)
		os.mkdir(self.dir)
		views_path = os.path.join(self.dir, "views.json")
		with open(views_path, "w") as f:
			json.dump(views, f)
		self.actions_path = os.path.join(self.dir, "actions.log")
		self.log_path = os.path.join(self.dir, "server.log")
		self.log = open(self.log_path, "w")
		self.proc = subprocess.Popen([SERVER, token, views_path, self.actions_path],
					     stdout=subprocess.PIPE, stderr=self.log, text=True)
		first = self.proc.stdout.readline().split()
		assert first and first[0] == "PORT", first
		self.port = int(first[1])
		self.url = "http://127.0.0.1:%d" % self.port
		self.host = "127.0.0.1:%d" % self.port

	def actions(self):
		if not os.path.exists(self.actions_path):
			return []
		with open(self.actions_path) as f:
			return [json.loads(l) for l in f]

	def requests(self):
		"""The server's `request` log entries: (method, path, query)."""
		out = []
		with open(self.log_path) as f:
			for l in f:
				e = json.loads(l)
				if e.get("msg") == "request":
					out.append((e["reqMethod"], "/" + e["reqPath"], e["reqQuery"]))
		return out

	def stop(self):
		self.proc.send_signal(signal.SIGTERM)
		rc = self.proc.wait(timeout=60)
		self.proc.stdout.close()
		self.log.close()
		return rc


class InstanceCLITest(unittest.TestCase):
	def setUp(self):
		self.tmp = tempfile.TemporaryDirectory(prefix="instcli-")
		self.servers = []
		self.a = self.server("a", VIEWS_A)

	def tearDown(self):
		for s in self.servers:
			rc = s.stop()
			with open(s.log_path) as f:
				self.assertEqual(rc, 0, "server exited uncleanly: " + f.read()[-3000:])
		self.tmp.cleanup()

	def server(self, name, views, token=TOKEN):
		s = Server(self.tmp.name, name, views, token)
		self.servers.append(s)
		return s

	def config(self, urls, token=TOKEN, name="config.yml"):
		path = os.path.join(self.tmp.name, name)
		with open(path, "w") as f:
			f.write("Clusters:\n  zzzzz:\n    ManagementToken: %s\n"
				"    SystemRootToken: systemroottoken0123456789abcdefghij\n"
				"    Services:\n      Controller:\n        ExternalURL: https://zzzzz.example.com\n"
				"      DispatchCloud:\n        InternalURLs:%s\n"
				% (token, "".join('\n          "%s": {}' % u for u in urls) if urls else " {}"))
		return path

	def run_cli(self, *args, config=None, env_config=None, extra_env=None):
		env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
		env.pop("ARVADOS_CONFIG", None)
		env.update(extra_env or {})
		if env_config:
			env["ARVADOS_CONFIG"] = env_config
		argv = [ADC, "instance"] + list(args[:1])
		if config:
			argv += ["-config", config]
		argv += list(args[1:])
		p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
		self.assertNotIn("Sanitizer", p.stderr)
		return p

	# --- list ---------------------------------------------------------------------------

	def test_list_lines(self):
		p = self.run_cli("list", config=self.config([self.a.url]))
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.split("\n"), LINES_A + [""])
		self.assertEqual(p.stderr, "")
		self.assertEqual(self.a.requests(), [("GET", "/arvados/v1/dispatch/instances", "")])

	def test_list_header(self):
		cfg = self.config([self.a.url + "/"])  # a trailing slash in the entry changes nothing
		p = self.run_cli("list", "-header", config=cfg)
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.split("\n"), [HEADER] + LINES_A + [""])
		p = self.run_cli("list", "--header=false", config=cfg)
		self.assertEqual(p.stdout.split("\n"), LINES_A + [""])

	def test_list_from_arvados_config_env(self):
		p = self.run_cli("list", env_config=self.config([self.a.url]))
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.split("\n"), LINES_A + [""])

	def test_list_every_internal_url(self):
		b = self.server("b", VIEWS_B)
		p = self.run_cli("list", "-header", config=self.config([b.url, self.a.url]))
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.split("\n"), [HEADER] + LINES_B + LINES_A + [""])

	def test_list_empty_pool(self):
		empty = self.server("empty", [])
		p = self.run_cli("list", "-header", config=self.config([empty.url]))
		self.assertEqual((p.returncode, p.stdout), (0, HEADER + "\n"))

	def test_list_decodes_as_go(self):
		# null item: a zero view; keys match case-insensitively; absent fields are zero values
		odd = self.server("odd", [None, {"INSTANCE": "i-up", "Worker_State": "idle", "price": None}])
		p = self.run_cli("list", config=self.config([odd.url]))
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.split("\n"), ["-\t-\t\t\t\t\t0.000000\t-", "i-up\t-\tidle\t\t\t\t0.000000\t-", ""])

	def test_list_wrong_type_prints_nothing_from_that_server(self):
		bad = self.server("bad", [{"instance": "i-1"}, {"instance": "i-2", "price": "cheap"}])
		p = self.run_cli("list", "-header", config=self.config([bad.url]))
		self.assertEqual(p.returncode, 1)
		self.assertEqual(p.stdout, HEADER + "\n")
		self.assertEqual(p.stderr, "error decoding API response: cannot unmarshal string into field price of type float64\n")

	def test_list_loopback_bypasses_proxy(self):
		dead = "http://127.0.0.1:%d" % free_port()
		p = self.run_cli("list", config=self.config([self.a.url]),
				 extra_env={"http_proxy": dead, "HTTP_PROXY": dead, "https_proxy": dead})
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stdout.split("\n"), LINES_A + [""])

	def test_list_wrong_token(self):
		p = self.run_cli("list", config=self.config([self.a.url], token="notthetoken0123456789abcdefghijklmn"))
		self.assertEqual(p.returncode, 1)
		self.assertEqual(p.stdout, "")
		self.assertEqual(p.stderr, "error doing API request: 403 Forbidden (%s): Forbidden\n" % self.a.host)

	def test_list_no_server(self):
		port = free_port()
		p = self.run_cli("list", config=self.config(["http://127.0.0.1:%d" % port]))
		self.assertEqual(p.returncode, 1)
		self.assertEqual(p.stdout, "")
		self.assertRegex(p.stderr, r'^error doing API request: Get "http://127\.0\.0\.1:%d/arvados/v1/dispatch/instances": '
				 r'.*(connect|Connection refused).*\n$' % port)

	def test_list_total_timeout(self):
		"""A server that accepts, reads the request and never answers (a connect timeout alone
		would wait forever): -timeout bounds the whole request."""
		import threading
		import time
		srv = socket.socket()
		srv.bind(("127.0.0.1", 0))
		srv.listen(4)
		held = []
		def accept():
			try:
				c, _ = srv.accept()
				c.recv(4096)
				held.append(c)  # keep it open, say nothing
			except OSError:
				pass
		t = threading.Thread(target=accept, daemon=True)
		t.start()
		try:
			url = "http://127.0.0.1:%d" % srv.getsockname()[1]
			t0 = time.monotonic()
			p = self.run_cli("list", "-timeout", "2s", config=self.config([url]))
			took = time.monotonic() - t0
		finally:
			srv.close()
			for c in held:
				c.close()
		self.assertEqual(p.returncode, 1, p.stderr)
		self.assertRegex(p.stderr, r'^error doing API request: Get "%s/arvados/v1/dispatch/instances": '
				 r'.*timed out.*\n$' % url)
		self.assertLess(took, 10)
		p = self.run_cli("list", "-timeout", "soon", config=self.config([url]))
		self.assertEqual(p.returncode, 64)
		self.assertIn('invalid value "soon" for flag -timeout', p.stderr)

	def test_list_stops_at_first_failing_server(self):
		port = free_port()
		p = self.run_cli("list", config=self.config([self.a.url, "http://127.0.0.1:%d" % port]))
		self.assertEqual(p.returncode, 1)
		self.assertEqual(p.stdout.split("\n"), LINES_A + [""])
		self.assertIn("error doing API request", p.stderr)

	# --- actions ------------------------------------------------------------------------

	def test_actions_send_method_path_query_token(self):
		cfg = self.config([self.a.url])
		for action in ("hold", "drain", "run"):
			p = self.run_cli(action, "i-0abc", config=cfg)
			self.assertEqual(p.returncode, 0, p.stderr)
			self.assertEqual(p.stdout, "")
			self.assertEqual(p.stderr, "i-0abc: 200 OK (%s)\n" % self.a.host)
		p = self.run_cli("kill", "-reason", "disk full & 50% gone/ok?", "i-0def", config=cfg)
		self.assertEqual(p.returncode, 0, p.stderr)
		self.assertEqual(p.stderr, "i-0def: 200 OK (%s)\n" % self.a.host)
		# The server accepted the token (only an Authorization header can carry it) and saw
		# exactly these requests.
		self.assertEqual(self.a.requests(), [
			("POST", "/arvados/v1/dispatch/instances/hold", "instance_id=i-0abc&reason="),
			("POST", "/arvados/v1/dispatch/instances/drain", "instance_id=i-0abc&reason="),
			("POST", "/arvados/v1/dispatch/instances/run", "instance_id=i-0abc&reason="),
			("POST", "/arvados/v1/dispatch/instances/kill",
			 "instance_id=i-0def&reason=disk+full+%26+50%25+gone%2Fok%3F"),
		])
		self.assertEqual(self.a.actions(), [
			{"action": "hold", "id": "i-0abc", "reason": ""},
			{"action": "drain", "id": "i-0abc", "reason": ""},
			{"action": "run", "id": "i-0abc", "reason": ""},
			{"action": "kill", "id": "i-0def", "reason": "via management API: disk full & 50% gone/ok?"},
		])

	def test_several_ids(self):
		p = self.run_cli("drain", "i-0abc", "i-nope", "i-0abc", "i-0123", config=self.config([self.a.url]))
		self.assertEqual(p.returncode, 1)
		h = self.a.host
		self.assertEqual(p.stderr.split("\n"), [
			"i-0abc: 200 OK (%s)" % h,
			"i-nope: 404 Not Found (%s)" % h,
			"i-nope: %s: requested instance does not exist" % h,
			"i-0123: 200 OK (%s)" % h, ""])
		self.assertEqual([a["id"] for a in self.a.actions()], ["i-0abc", "i-nope", "i-0123"])

	def test_unknown_instance(self):
		cfg = self.config([self.a.url])
		for action, msg in (("hold", "requested instance does not exist"), ("kill", "instance not found")):
			p = self.run_cli(action, "i-missing", config=cfg)
			self.assertEqual(p.returncode, 1)
			self.assertEqual(p.stderr, "i-missing: 404 Not Found (%s)\ni-missing: %s: %s\n"
					 % (self.a.host, self.a.host, msg))

	def test_action_wrong_token(self):
		p = self.run_cli("hold", "i-0abc", config=self.config([self.a.url], token="wrongtoken0123456789abcdefghijklmno"))
		self.assertEqual(p.returncode, 1)
		self.assertEqual(p.stderr, "i-0abc: 403 Forbidden (%s)\ni-0abc: %s: Forbidden\n" % (self.a.host, self.a.host))
		self.assertEqual(self.a.actions(), [])

	def test_action_no_server(self):
		port = free_port()
		p = self.run_cli("run", "i-0abc", config=self.config(["http://127.0.0.1:%d" % port]))
		self.assertEqual(p.returncode, 1)
		self.assertRegex(p.stderr, r'^i-0abc: error doing API request: Post "http://127\.0\.0\.1:%d/arvados/v1/dispatch/'
				 r'instances/run\?instance_id=i-0abc&reason=": .*\n$' % port)

	def test_action_tries_every_internal_url(self):
		b = self.server("b", VIEWS_B)
		port = free_port()
		cfg = self.config(["http://127.0.0.1:%d" % port, self.a.url, b.url])
		p = self.run_cli("hold", "i-b1", "i-0abc", config=cfg)
		self.assertEqual(p.returncode, 0, p.stderr)
		lines = p.stderr.split("\n")
		self.assertEqual(len(lines), 7, p.stderr)
		self.assertRegex(lines[0], r"^i-b1: error doing API request: ")
		self.assertRegex(lines[1], r"^i-0abc: error doing API request: ")
		self.assertEqual(lines[2:], [
			"i-b1: 404 Not Found (%s)" % self.a.host,
			"i-b1: %s: requested instance does not exist" % self.a.host,
			"i-0abc: 200 OK (%s)" % self.a.host,
			"i-b1: 200 OK (%s)" % b.host, ""])
		# i-0abc was done at a, so b never heard of it.
		self.assertEqual(b.actions(), [{"action": "hold", "id": "i-b1", "reason": ""}])

	# --- usage and config errors ------------------------------------------------------------

	def test_usage_errors(self):
		cfg = self.config([self.a.url])
		p = self.run_cli("hold", config=cfg)
		self.assertEqual((p.returncode, p.stderr), (2, "usage error: no instance IDs provided\n"))
		p = self.run_cli("hold", "-reason", "x", "i-0abc", config=cfg)
		self.assertEqual(p.returncode, 64)
		self.assertEqual(p.stderr, "error parsing command line arguments: flag provided but not defined: -reason (try -help)\n")
		p = self.run_cli("list", "extra", config=cfg)
		self.assertEqual((p.returncode, p.stderr), (64, "unrecognized command line arguments: [extra] (try -help)\n"))
		p = self.run_cli("reboot", "i-0abc")
		self.assertEqual(p.returncode, 2)
		self.assertTrue(p.stderr.startswith('arvados-dispatch-cloud instance: unrecognized command "reboot"\n'), p.stderr)
		p = self.run_cli()
		self.assertEqual(p.returncode, 2)
		self.assertIn("no subcommand specified", p.stderr)
		p = self.run_cli("kill", "-help")
		self.assertEqual(p.returncode, 0)
		self.assertIn("-reason string", p.stderr)
		# a flag after the first ID is an ID, as Go's flag package has it
		p = self.run_cli("hold", "i-0abc", "-config", "x", config=cfg)
		self.assertEqual(p.returncode, 1)
		self.assertIn("-config: 404 Not Found", p.stderr)
		self.assertEqual(self.a.requests(), [
			("POST", "/arvados/v1/dispatch/instances/hold", q)
			for q in ("instance_id=i-0abc&reason=", "instance_id=-config&reason=", "instance_id=x&reason=")])

	def test_config_errors(self):
		p = self.run_cli("list", config=self.config([]))
		self.assertEqual((p.returncode, p.stderr), (1, "no Services.DispatchCloud.InternalURLs configured\n"))
		p = self.run_cli("kill", "i-0abc", config=os.path.join(self.tmp.name, "missing.yml"))
		self.assertEqual(p.returncode, 1)
		self.assertIn("cannot read config file", p.stderr)
		self.assertEqual(self.a.requests(), [])


if __name__ == "__main__":
	unittest.main()
