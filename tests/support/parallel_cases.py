"""parallel_cases.py - run the test cases of a unittest file side by side, each in a process
of its own, for files whose cases are independent (own servers, ports, directories) and
spend most of their time waiting: the file takes about as long as its longest case, not the
sum. Standard library only; /usr/bin/python3.

In the test file:  if __name__ == "__main__": parallel_cases.main()
ADC_CASE_JOBS cases at once (default 3). With test names on the command line, or
ADC_CASE_JOBS=1, it is plain unittest.main (options such
as -v are accepted either way). Each case's output is printed whole when it ends, then a
summary; the exit status is 1 if any case failed."""
import os
import subprocess
import sys
import tempfile
import time
import unittest


def case_names(module):
    """Every test of the module as unittest's argv names it: "Class.test_name"."""
    out, todo = [], [unittest.defaultTestLoader.loadTestsFromModule(module)]
    while todo:
        s = todo.pop(0)
        if isinstance(s, unittest.TestSuite):
            todo[:0] = list(s)
        else:
            out.append(s.id().split(".", 1)[1])
    return out


def main():
    jobs = int(os.environ.get("ADC_CASE_JOBS", "3"))
    module = sys.modules["__main__"]
    names = case_names(module)
    if any(not a.startswith("-") for a in sys.argv[1:]) or jobs <= 1 or len(names) <= 1:
        unittest.main(module=module, verbosity=2)
        return
    running, failed, pending = {}, [], list(names)
    t0 = time.monotonic()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                n = pending.pop(0)
                out = tempfile.TemporaryFile()
                p = subprocess.Popen([sys.executable, "-B", os.path.abspath(module.__file__), n],
                                     stdout=out, stderr=subprocess.STDOUT)
                running[n] = (p, out, time.monotonic())
            ended = [n for n, (p, _, _) in running.items() if p.poll() is not None]
            for n in ended:
                p, out, started = running.pop(n)
                out.seek(0)
                text = out.read().decode(errors="replace")
                out.close()
                status = "ok" if p.returncode == 0 else "FAILED (exit %d)" % p.returncode
                print("==== %s: %s after %.1f s\n%s" % (n, status, time.monotonic() - started, text),
                      flush=True)
                if p.returncode != 0:
                    failed.append(n)
            if not ended:
                time.sleep(0.1)
    finally:
        for p, out, _ in running.values():  # interrupted (ctest's timeout): no orphans
            p.kill()
            p.wait()
            out.close()
    print("%d cases in %.1f s, up to %d at once; failed: %s" % (
        len(names), time.monotonic() - t0, jobs, ", ".join(failed) or "none"), flush=True)
    sys.exit(1 if failed else 0)
