#!/usr/bin/python3
"""check-layers.py - dispatcherd's module layering, checked over the #include lines.

dispatcherd/ has one folder per module (docs/ARCHITECTURE.md, "Module map"). Every
`#include "x.h"` of a file in module M that names a header of another module N is an arrow
M -> N. This fails (exit 1, one line per problem) when:
  * an arrow is not in ALLOWED below (the same table as the CMake libraries' links);
  * the folders' arrows form a cycle;
  * a header name exists in two modules (includes are by basename, so it would be ambiguous);
  * a file of sched/ reaches <uv.h>, directly or through the headers it includes (the
    scheduling core does no I/O);
  * helpers/ includes a pool header other than ports/pool_ports.h (ALLOWED: "pool/ports").

  check-layers.py [--root DIR]   check DIR/dispatcherd (default: this repository)
  check-layers.py --graph        print the arrows actually used, then check
  check-layers.py --self-test    plant wrong includes in a copy and show each one is caught
"""
import os
import re
import shutil
import sys
import tempfile

# Who may include whom. "pool/ports" is the pool's ports header, on its own so that the
# helpers see it and nothing else of the pool. Keep in step with dispatcherd/*/CMakeLists.txt.
ALLOWED = {
    "app": {"cli", "mgmt", "loop", "sched", "queue", "pool", "pool/ports", "helpers", "arvados",
            "pglock", "base"},
    "cli": {"base"},
    "mgmt": {"loop", "queue", "pool", "pool/ports", "base"},
    "loop": {"sched", "queue", "pool", "pool/ports", "arvados", "base"},
    "queue": {"arvados", "base"},
    "pool": {"pool/ports", "base"},
    "pool/ports": set(),
    "helpers": {"pool/ports", "base"},
    "sched": {"base"},
    "arvados": {"base"},
    "pglock": set(),
    "base": set(),
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder(mod):
    """The folder a module lives in (pool/ports is part of pool/)."""
    return mod.split("/")[0]


def scan(root):
    """{module: {file: [(kind, name)]}} for every .c/.h under root/dispatcherd."""
    base = os.path.join(root, "dispatcherd")
    mods = {}
    for d, _, files in os.walk(base):
        rel = os.path.relpath(d, base)
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            if rel == ".":
                mod = "(top)"
            else:
                mod = rel.replace(os.sep, "/")
            incs = []
            with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    m = INCLUDE.match(line)
                    if m:
                        incs.append((m.group(1), m.group(2)))
            mods.setdefault(mod, {})[f] = incs
    return mods


def check(root, graph=False, out=sys.stdout):
    mods = scan(root)
    problems = []
    owner = {}
    for mod, files in mods.items():
        if mod == "(top)":
            problems.append("dispatcherd/: %s outside any module folder" % ", ".join(sorted(files)))
            continue
        if mod not in ALLOWED:
            problems.append("dispatcherd/%s/: a module folder the table in %s does not know"
                            % (mod, os.path.basename(__file__)))
        for f in files:
            if f.endswith(".h"):
                if f in owner:
                    problems.append("%s is both dispatcherd/%s/%s and dispatcherd/%s/%s"
                                    % (f, owner[f], f, mod, f))
                owner[f] = mod

    arrows = {}
    for mod, files in sorted(mods.items()):
        if mod == "(top)":
            continue
        for f, incs in sorted(files.items()):
            for kind, name in incs:
                target = owner.get(os.path.basename(name)) if kind == '"' else None
                if target is None or target == mod:
                    continue
                arrows.setdefault(mod, {}).setdefault(target, []).append(f)
                if target not in ALLOWED.get(mod, set()):
                    problems.append("dispatcherd/%s/%s includes %s: %s -> %s is not an allowed "
                                    "arrow (docs/ARCHITECTURE.md, Module map)"
                                    % (mod, f, name, mod, target))

    # sched/ must not reach <uv.h>, even through a header of another module.
    def reaches_uv(mod, f, seen):
        if (mod, f) in seen:
            return None
        seen.add((mod, f))
        for kind, name in mods.get(mod, {}).get(f, []):
            if kind == "<" and name == "uv.h":
                return [f]
            t = owner.get(os.path.basename(name)) if kind == '"' else None
            if t is not None:
                path = reaches_uv(t, os.path.basename(name), seen)
                if path:
                    return [f] + path
        return None

    for f in sorted(mods.get("sched", {})):
        path = reaches_uv("sched", f, set())
        if path:
            problems.append("dispatcherd/sched/%s reaches <uv.h> (%s): the scheduling core "
                            "does no I/O" % (f, " -> ".join(path + ["uv.h"])))

    # Cycles between folders.
    fgraph = {}
    for m, ts in arrows.items():
        for t in ts:
            if folder(t) != folder(m):
                fgraph.setdefault(folder(m), set()).add(folder(t))
    cycles = find_cycles(fgraph)
    for c in cycles:
        problems.append("include cycle between folders: %s" % " -> ".join(c + [c[0]]))

    if graph:
        print("module arrows in use (module -> modules it includes):", file=out)
        for m in sorted(arrows):
            print("  %-10s -> %s" % (m, ", ".join(sorted(arrows[m]))), file=out)
        print("include cycles between folders: %d" % len(cycles), file=out)
    return problems


def find_cycles(g):
    """Each elementary cycle once (small graphs: a DFS from every node is fine)."""
    cycles, seen = [], set()
    nodes = sorted(set(g) | {t for ts in g.values() for t in ts})

    def dfs(start, node, path):
        for t in sorted(g.get(node, ())):
            if t == start:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    cycles.append(list(path))
            elif t not in path and t > start:
                dfs(start, t, path + [t])

    for n in nodes:
        dfs(n, n, [n])
    return cycles


# Wrong includes the check must catch, each planted alone in a copy of the tree.
PLANTS = [
    ("helpers/port_ssh.c", '#include "pool.h"', "helpers -> pool"),
    ("sched/sched_order.c", "#include <uv.h>", "reaches <uv.h>"),
    ("base/metrics.c", '#include "queue.h"', "base -> queue"),
    ("pool/pool_view.c", '#include "mgmt_api.h"', "pool -> mgmt"),
    ("queue/queue.h", '#include "sched_driver.h"', "include cycle between folders"),
]


def self_test(root):
    failures = 0
    if check(root):
        print("self-test: the tree itself does not pass; fix that first", file=sys.stderr)
        return 1
    for path, line, expect in PLANTS:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(os.path.join(root, "dispatcherd"), os.path.join(tmp, "dispatcherd"),
                            ignore=shutil.ignore_patterns("*.txt", "*.md"))
            victim = os.path.join(tmp, "dispatcherd", path)
            if not os.path.exists(victim):
                print("self-test: %s is gone; update PLANTS" % path, file=sys.stderr)
                failures += 1
                continue
            with open(victim, "a", encoding="utf-8") as fh:
                fh.write("\n%s\n" % line)
            problems = check(tmp)
            hit = [p for p in problems if expect in p]
            print("self-test: %-22s + %-28s -> %s" % (path, line,
                  hit[0] if hit else "NOT CAUGHT"))
            if not hit:
                failures += 1
    return 1 if failures else 0


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    graph = "--graph" in argv
    if "--root" in argv:
        root = argv[argv.index("--root") + 1]
    if "--self-test" in argv:
        return self_test(root)
    problems = check(root, graph=graph)
    for p in problems:
        print("check-layers: " + p, file=sys.stderr)
    if problems:
        print("check-layers: %d problem(s)" % len(problems), file=sys.stderr)
        return 1
    print("check-layers: dispatcherd's includes follow the module map")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
