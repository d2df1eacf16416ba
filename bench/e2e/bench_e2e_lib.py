"""bench_e2e_lib.py - what both end-to-end benchmarks read from /proc: CPU time and memory of a
process, and the machine's busy CPU time (to show what the rest of the rig cost)."""
import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def lib_cpu(pid):
    """User + system CPU seconds of pid (fields 14 and 15 of /proc/<pid>/stat); None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def lib_children_cpu(ppid):
    """CPU seconds of the live children of ppid, each with its reaped descendants (fields 14-17
    of /proc/<pid>/stat): for an sshd listener, its per-connection processes and every session
    (shell, command) they have run and reaped."""
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        if int(fields[1]) == ppid:
            total += sum(int(x) for x in fields[11:15]) / CLK_TCK
    return total


def _status_kib(pid, keys):
    """{key: KiB} of these fields of /proc/<pid>/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out


def lib_mem(pid):
    """(VmRSS, VmHWM) in KiB from /proc/<pid>/status."""
    out = _status_kib(pid, ("VmRSS", "VmHWM"))
    return out["VmRSS"], out["VmHWM"]


def lib_mem_parts(pid):
    """Where a process's resident memory is, in KiB: RssAnon (heap, stacks: its own), RssFile
    (pages of the executable and its libraries, mostly shared with every other process that
    maps them) from /proc/<pid>/status, and Pss (each shared page divided among the processes
    that map it) from /proc/<pid>/smaps_rollup; the largest file-backed mappings by Rss."""
    out = _status_kib(pid, ("RssAnon", "RssFile", "RssShmem"))
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "Pss":
                out[k] = int(v.split()[0])
    files, cur = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                cur = parts[5] if len(parts) > 5 and parts[5].startswith("/") else None
            elif cur is not None and parts and parts[0] == "Rss:":
                files[cur] = files.get(cur, 0) + int(parts[1])
    out["files"] = sorted(files.items(), key=lambda kv: -kv[1])
    return out


def lib_machine_busy():
    """Busy CPU seconds of the whole machine since boot (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def lib_pct(sorted_vals, p):
    """The p-th percentile (nearest rank) of an already sorted list."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


class LibCpuGroup:
    """A cgroup (v1 cpuacct) holding this process and so everything it starts from now on:
    its usage counts the CPU of every descendant, those that exited included (the sshd
    sessions, the detached stub crunch-runs), and none of the other work on the machine.
    usage() is None when cgroups cannot be used here."""

    ROOT = "/sys/fs/cgroup/cpuacct"

    def __init__(self):
        self.path = os.path.join(self.ROOT, "adc-bench-%d" % os.getpid())
        try:
            os.mkdir(self.path)
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            self.path = None

    def usage(self):
        if self.path is None:
            return None
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read()) / 1e9

    def close(self):
        """Back to the root group; the group is removed once its last process has exited."""
        if self.path is None:
            return
        with open(os.path.join(self.ROOT, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)
