"""test_dashboard.py - packaging/grafana/arvados-dispatch-cloud.json (issue 14).

  1. Grafana's dashboard structure (Grafana is not in Debian, so a structural check): the
     top-level fields an import needs, the datasource input every panel uses, unique panel
     ids and refIds, grid positions inside the 24 columns and not overlapping, the template
     variable, and a panel for each thing the issue asks for.
  2. Every PromQL expression parses: Prometheus's own parser, through
     `promtool check rules` on a rule file made of them (with Grafana's variables filled in).
  3. Every metric the dashboard queries, and every label it selects or groups by, exists in
     the /metrics output of a running dispatcher (the `make demo` cluster: loopback driver,
     fake API server) after it has run one container.

Needs root (the loopback driver logs in as root; the helpers switch users).
/usr/bin/python3, standard library only.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
DASHBOARD = os.path.join(SRC, "packaging", "grafana", "arvados-dispatch-cloud.json")
sys.path.insert(0, os.path.join(SRC, "scripts"))

PANEL_TYPES = {"row", "timeseries", "stat"}
# What issue 14 asks the dashboard to show: a panel title (lower case) for each.
REQUIRED_TITLES = ["queue by state", "instances by state", "instances by type", "boot outcomes",
                   "time to ssh and ready", "queue-to-run latency", "cloud api errors",
                   "throttling and quota", "cost per hour"]
METRIC_RE = re.compile(r"\b(arvados_[a-z0-9_]+)\b")
SELECTOR_RE = re.compile(r"\b(arvados_[a-z0-9_]+)\{([^}]*)\}")
BY_RE = re.compile(r"\bby \(([^)]*)\)")


def load():
    with open(DASHBOARD) as f:
        return json.load(f)


def queries(d):
    out = []
    for p in d["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    for v in d["templating"]["list"]:
        out.append(("variable " + v["name"], v["definition"]))
    return out


def concrete(expr):
    """Grafana's variables, as Grafana would fill them in."""
    return expr.replace("$__rate_interval", "5m").replace("$job", ".*")


class DashboardStructure(unittest.TestCase):
    def test_structure(self):
        d = load()
        for k, t in (("title", str), ("uid", str), ("schemaVersion", int), ("panels", list),
                     ("templating", dict), ("time", dict), ("__inputs", list), ("tags", list)):
            self.assertIsInstance(d.get(k), t, k)
        self.assertLessEqual(len(d["uid"]), 40)
        self.assertGreaterEqual(d["schemaVersion"], 30)
        inputs = {i["name"]: i for i in d["__inputs"]}
        self.assertEqual(inputs["DS_PROMETHEUS"]["pluginId"], "prometheus")
        ids, boxes = set(), []
        for p in d["panels"]:
            self.assertIsInstance(p.get("id"), int)
            self.assertNotIn(p["id"], ids, "duplicate panel id")
            ids.add(p["id"])
            self.assertIn(p.get("type"), PANEL_TYPES)
            self.assertTrue(p.get("title"))
            g = p["gridPos"]
            for k in ("h", "w", "x", "y"):
                self.assertIsInstance(g[k], int, (p["title"], k))
            self.assertTrue(g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["x"] + g["w"] <= 24,
                            p["title"])
            for (x, y, w, h, t) in boxes:
                overlap = (g["x"] < x + w and x < g["x"] + g["w"] and
                           g["y"] < y + h and y < g["y"] + g["h"])
                self.assertFalse(overlap, "%s overlaps %s" % (p["title"], t))
            boxes.append((g["x"], g["y"], g["w"], g["h"], p["title"]))
            if p["type"] == "row":
                self.assertEqual((g["w"], g["h"]), (24, 1))
                continue
            self.assertEqual(p["datasource"], {"type": "prometheus", "uid": "${DS_PROMETHEUS}"})
            self.assertTrue(p["targets"], p["title"])
            refs = [t["refId"] for t in p["targets"]]
            self.assertEqual(len(refs), len(set(refs)), p["title"])
            for t in p["targets"]:
                self.assertTrue(t["expr"].strip())
                self.assertEqual(t["datasource"], p["datasource"])
        titles = [p["title"].lower() for p in d["panels"]]
        for want in REQUIRED_TITLES:
            self.assertIn(want, titles)
        var = d["templating"]["list"]
        self.assertEqual([v["name"] for v in var], ["job"])
        for _, expr in queries(d):
            if "$" in expr:
                self.assertEqual(set(re.findall(r"\$\w+", expr)) - {"$__rate_interval", "$job"},
                                 set(), expr)

    def test_promql_parses(self):
        d = load()
        rules = {"groups": [{"name": "dashboard", "rules": [
            {"record": "dashboard:q%d" % i, "expr": concrete(e)}
            for i, (_, e) in enumerate(queries(d)) if not e.startswith("label_values(")]}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            json.dump(rules, f)  # JSON is YAML
            f.flush()
            r = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True,
                               text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: %d rules found" % len(rules["groups"][0]["rules"]), r.stdout)


def series(text):
    """{metric name: set of label names} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ", line)
        if m:
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
            out.setdefault(m.group(1), set()).update(labels)
    return out


@unittest.skipUnless(os.geteuid() == 0, "the demo cluster needs root")
class DashboardMetrics(unittest.TestCase):
    def test_metrics_exist(self):
        import demo_cluster
        cl = demo_cluster.Cluster()
        try:
            cl.start_fake()
            cl.write_config()
            cl.start_dispatcher()
            cl.run_container(["echo", "metrics"])
            # One more poll so the queue gauge has seen the container (state Complete is
            # dropped from the queue; queue_entries keeps its series at 0).
            time.sleep(2)
            req = urllib.request.Request(cl.mgmt_url("/metrics"),
                                         headers={"Authorization": "Bearer " + cl.mgmt_token})
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read().decode()
        finally:
            cl.stop(say=lambda *a: None)
        have = series(text)
        missing, bad_labels = set(), []
        for title, expr in queries(load()):
            for name in METRIC_RE.findall(expr):
                if name not in have:
                    missing.add(name)
            for name, sel in SELECTOR_RE.findall(expr):
                for label in re.findall(r"([a-zA-Z_]+)\s*=~?", sel):
                    if label != "job" and label not in have.get(name, set()):
                        bad_labels.append((title, name, label))
            names = METRIC_RE.findall(expr)
            for group in BY_RE.findall(expr):
                for label in (x.strip() for x in group.split(",")):
                    if not any(label in have.get(n, set()) for n in names):
                        bad_labels.append((title, names, label))
        self.assertEqual(sorted(missing), [], "queried by the dashboard, not in /metrics")
        self.assertEqual(bad_labels, [], "labels the dashboard uses that the metrics lack")
        print("dashboard: %d queries, %d metrics, all in /metrics" % (
            len(queries(load())), len({n for _, e in queries(load()) for n in METRIC_RE.findall(e)})))


if __name__ == "__main__":
    unittest.main(verbosity=2)
