/*
 * pool_deadman.c - the dead-man's switch (-deadman-timeout, an addition; docs/POOL.md): the
 * part of the init command that installs a watchdog on the worker, and the start-up check of
 * the flag. The run probe touches the heartbeat (sshd-pool's ops_cmd_run_probe); the watchdog
 * powers the VM off once the heartbeat is older than the timeout and no crunch-run holds its
 * lock file, so a dispatcher that is gone for good leaves no VM running.
 */
#include "pool_internal.h"

#include <stdio.h>
#include <string.h>

#include "deadman.h"

/*
 * The watchdog, POSIX sh (dash, busybox). A shell loop and not a systemd timer: it is the same
 * text on every image, with or without systemd, so the e2e test runs what a VM runs. Where
 * systemd is PID 1 the loop runs as its own transient service (systemd-run), outside
 * cloud-init's cgroup and in the journal; elsewhere it is detached (setsid). It lives in
 * /var/run (a tmpfs): a reboot from inside ends it, as cloud-init does not run user data twice.
 *
 * The heartbeat's age is measured on the uptime clock (/proc/uptime), from the check that first
 * saw its mtime change: a step of the wall clock (NTP's first sync after boot) neither powers
 * off a VM that was just probed nor keeps one alive; the mtime is only compared for change.
 *
 * A crunch-run is alive while its /var/lock/crunch-run-<uuid>.lock is locked (spec 5.14, what
 * crunch-run --list itself tests); a lock file that cannot be opened counts as not held. The
 * locks are looked at only once the heartbeat is stale, when no dispatcher is starting
 * containers, so the shared lock taken to test one never meets a --detach. A lock still held by
 * a container's leftover child (a stuck arv-mount) also keeps the VM: never power off under a
 * container. %lld: the timeout and the check period in seconds.
 */
static const char deadman_fmt[] =
	"# arvados-dispatch-cloud -deadman-timeout: the dead-man's switch\n"
	"cat >/var/run/arvados-deadman <<'ADC_DEADMAN_EOF'\n"
	"hb=" ADC_DEADMAN_HEARTBEAT_PATH " timeout=%lld period=%lld\n"
	"state=/var/run/arvados-deadman.state checks=0\n"
	"up() { read -r u _ </proc/uptime; echo \"${u%%%%.*}\"; }\n"
	"seen=$(stat -c %%Y \"$hb\" 2>/dev/null) last=$(up)\n"
	"held() { (exec 9<\"$1\" && ! flock -n -s 9) 2>/dev/null; }\n"
	"busy() {\n"
	"\tfor f in /var/lock/crunch-run-*.lock; do\n"
	"\t\tcase $f in */crunch-run-all.lock) continue ;; esac\n"
	"\t\theld \"$f\" && return 0\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"while sleep \"$period\"; do\n"
	"\tnow=$(up) checks=$((checks + 1)) m=$(stat -c %%Y \"$hb\" 2>/dev/null)\n"
	"\tif [ \"$m\" != \"$seen\" ]; then seen=$m last=$now; fi\n"
	"\tage=$((now - last)) result=fresh\n"
	"\tif [ \"$age\" -ge \"$timeout\" ]; then\n"
	"\t\tif busy; then result=busy; else result=poweroff; fi\n"
	"\tfi\n"
	"\techo \"uptime=$now heartbeat_age=$age result=$result checks=$checks\" >\"$state.tmp\" "
	"&&\n"
	"\t\tmv -f \"$state.tmp\" \"$state\"\n"
	"\tif [ \"$result\" = poweroff ]; then\n"
	"\t\techo \"no probe for ${age}s and no crunch-run alive: powering off\" >&2\n"
	"\t\tpoweroff\n"
	"\tfi\n"
	"done\n"
	"ADC_DEADMAN_EOF\n"
	"touch " ADC_DEADMAN_HEARTBEAT_PATH "\n"
	"if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then\n"
	"\tsystemd-run --unit=arvados-deadman --collect "
	"--description=\"arvados-dispatch-cloud dead-man's switch\" /bin/sh "
	"/var/run/arvados-deadman\n"
	"else\n"
	"\tsetsid /bin/sh /var/run/arvados-deadman </dev/null >>/var/run/arvados-deadman.log "
	"2>&1 &\n"
	"fi\n";

int64_t
pool_deadman_period_s(int64_t timeout_ns)
{
	int64_t t = (timeout_ns + POOL_SECOND - 1) / POOL_SECOND, p = t / 5;

	return p < 1 ? 1 : p > 60 ? 60 : p;
}

char *
pool_deadman_script(int64_t timeout_ns)
{
	long long t = (long long)((timeout_ns + POOL_SECOND - 1) / POOL_SECOND);
	char *s = NULL;

	if (asprintf(&s, deadman_fmt, t, (long long)pool_deadman_period_s(timeout_ns)) < 0)
		return NULL;
	return s;
}

int
pool_deadman_check(const struct cfg_cloudvms *vm, int64_t timeout_ns, char *why, size_t len)
{
	const char *driver = vm->driver ? vm->driver : "";

	if (timeout_ns <= 0)
		return 0;
	if (strcmp(driver, "azure") == 0) {
		snprintf(why, len,
			 "-deadman-timeout is not supported with the azure driver: a poweroff from "
			 "inside leaves an Azure VM stopped but allocated, still billed");
		return -1;
	}
	if (strcmp(driver, "ec2") != 0) {
		snprintf(why, len,
			 "-deadman-timeout is supported with the ec2 driver only (driver %s)",
			 driver);
		return -1;
	}
	if (timeout_ns < 2 * vm->probe_interval) {
		snprintf(
			why, len,
			"-deadman-timeout must be at least twice ProbeInterval (%llds), or an idle "
			"worker would power itself off between two probes",
			(long long)(vm->probe_interval / POOL_SECOND));
		return -1;
	}
	return 0;
}
