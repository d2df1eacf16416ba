/* bench_crunch_run - a crunch-run stand-in light enough that the rig is not what
 * bench_e2e_throughput measures (issue 16, dispatch rate).
 *
 * tests/rig/stub-crunch-run is a Python program: every --list probe, --detach and --kill costs
 * an interpreter start (~30 ms of CPU), and each fake container makes two HTTPS calls of its
 * own. At 200 containers per second that alone is more than this 2-core machine has. This
 * stand-in keeps the contract the dispatcher relies on (spec/dispatcher.md 5.14: lock files
 * /var/lock/crunch-run-<uuid>.lock holding {"UUID","PID"} under an exclusive flock, the
 * crunch-run-all.lock directory lock, the broken marker, the outputs and exit codes of
 * --detach, --list and --kill) and does the rest in one process each:
 *
 *   --detach <uuid>  takes the lock, forks the "container" (which inherits the lock) and prints
 *                    its {"UUID","PID"}. The container tells the bench's relay its uuid over a
 *                    Unix socket and holds the lock until the relay answers, i.e. until the
 *                    relay has moved the container to Running and then Complete in the fake
 *                    API (as the real crunch-run does before it releases its lock).
 *   --list           prints "broken" if the marker exists, then the uuid of every held lock
 *                    ("<uuid> stale" when the holder is gone), removing abandoned lock files.
 *   --kill <sig> <uuid>  signals the lock holder and waits up to 1 s for it to go.
 *
 * The relay socket is <rig base dir>/crunch-run-relay.sock: the parent of the worker dir
 * ($ADC_WORKER_DIR, else the path in /run/adc-rig-worker-dir, tests/rig/README.md). Each
 * invocation appends {"argv":[...]} to <worker dir>/crunch-run/invocations.jsonl, as the stub
 * does, so the bench can count them. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOCKPREFIX "crunch-run-"
#define LOCKSUFFIX ".lock"

static char g_worker_dir[PATH_MAX / 2]; /* room left for the names appended to it */

static const char *
lock_dir(void)
{
	const char *d = getenv("ADC_LOCK_DIR");
	return d && *d ? d : "/var/lock";
}

static void
find_worker_dir(void)
{
	const char *d = getenv("ADC_WORKER_DIR");
	if (d && *d) {
		snprintf(g_worker_dir, sizeof g_worker_dir, "%s", d);
		return;
	}
	FILE *f = fopen("/run/adc-rig-worker-dir", "r");
	if (!f)
		return;
	if (fgets(g_worker_dir, sizeof g_worker_dir, f))
		g_worker_dir[strcspn(g_worker_dir, "\n")] = 0;
	fclose(f);
}

/* One line per invocation, written with a single O_APPEND write (atomic for concurrent
 * invocations). cJSON does the escaping. */
static void
record_invocation(int argc, char **argv)
{
	if (!*g_worker_dir)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/crunch-run/invocations.jsonl", g_worker_dir);
	cJSON *o = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(o, "argv");
	for (int i = 1; i < argc; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cJSON_AddNumberToObject(o, "time", (double)ts.tv_sec + ts.tv_nsec / 1e9);
	cJSON_AddNumberToObject(o, "pid", getpid());
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 && s) {
		size_t n = strlen(s);
		s[n] = '\n'; /* the NUL's place: one write of the whole line */
		if (write(fd, s, n + 1) < 0) {
			/* a lost record only makes the bench's counts low */
		}
	}
	if (fd >= 0)
		close(fd);
	free(s);
}

static int
lock_all(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/" LOCKPREFIX "all" LOCKSUFFIX, lock_dir());
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0700);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

static int
read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	return (int)n;
}

/* {"UUID":..,"PID":..} of a lock file: 0 and the pid, or -1. */
static int
lock_pid(int fd, const char *want_uuid, char *uuid, size_t cap, long *pid)
{
	char buf[4096];
	read_all(fd, buf, sizeof buf);
	buf[strcspn(buf, "\n")] = 0;
	cJSON *o = cJSON_Parse(buf);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "UUID");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "PID");
	int rc = -1;
	if (cJSON_IsString(u) && cJSON_IsNumber(p) && p->valuedouble > 0 &&
	    (!want_uuid || strcmp(u->valuestring, want_uuid) == 0)) {
		snprintf(uuid, cap, "%s", u->valuestring);
		*pid = (long)p->valuedouble;
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

/* Like the real crunch-run's kill(pid, 0), except that a zombie counts as gone: the detached
 * child is reparented to the worker's init, which may reap it late (testing.md 2). */
static int
pid_alive(long pid)
{
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 0;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	read_all(fd, buf, sizeof buf);
	close(fd);
	const char *p = strrchr(buf, ')');
	return !(p && p[1] == ' ' && p[2] == 'Z');
}

/* The container: tell the relay, hold the inherited lock until it answers. */
static void
run_container(const char *uuid)
{
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char base[PATH_MAX];
	snprintf(base, sizeof base, "%s", g_worker_dir);
	char *slash = strrchr(base, '/');
	if (slash)
		*slash = 0;
	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/crunch-run-relay.sock", base) >=
	    sizeof sa.sun_path)
		_exit(1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		_exit(1);
	char line[256];
	int n = snprintf(line, sizeof line, "%s\n", uuid);
	if (write(s, line, (size_t)n) != n)
		_exit(1);
	char c;
	while (read(s, &c, 1) < 0 && errno == EINTR) {
	}
	_exit(0);
}

static int
cmd_detach(const char *uuid)
{
	char buf[65536];
	while (read(0, buf, sizeof buf) > 0) {
		/* the --stdin-config payload: the relay knows what to do with the container */
	}
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/" LOCKPREFIX "%s" LOCKSUFFIX, lock_dir(), uuid);
	int dirlock = lock_all();
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0700);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "detach: lock %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(dirlock);
	if (ftruncate(fd, 0) < 0)
		return 1;
	signal(SIGUSR2, SIG_IGN); /* what --list of the real one sends ("reload prices") */
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		setsid();
		run_container(uuid); /* keeps fd (the lock) until it exits */
	}
	char line[256];
	int n = snprintf(line, sizeof line, "{\"UUID\":\"%s\",\"PID\":%ld}\n", uuid, (long)child);
	if (write(fd, line, (size_t)n) != n)
		return 1;
	close(fd);
	fputs(line, stdout);
	return 0;
}

static int
cmd_list(int read_prices)
{
	char buf[65536];
	while (read_prices && read(0, buf, sizeof buf) > 0) {
		/* prices: the dispatcher's part is to send them; nothing here reads them */
	}
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/" LOCKPREFIX "broken", lock_dir());
	if (access(path, F_OK) == 0)
		puts("broken");
	int dirlock = lock_all();
	DIR *d = opendir(lock_dir());
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name), pl = strlen(LOCKPREFIX), sl = strlen(LOCKSUFFIX);
		if (len <= pl + sl || strncmp(e->d_name, LOCKPREFIX, pl) != 0 ||
		    strcmp(e->d_name + len - sl, LOCKSUFFIX) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", lock_dir(), e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || st.st_size == 0) { /* the directory lock, or no pid yet */
			close(fd);
			continue;
		}
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) { /* not held: abandoned */
			unlink(path);
			close(fd);
			continue;
		}
		char uuid[128];
		long pid;
		if (lock_pid(fd, NULL, uuid, sizeof uuid, &pid) == 0)
			printf(pid_alive(pid) ? "%s\n" : "%s stale\n", uuid);
		close(fd);
	}
	if (d)
		closedir(d);
	close(dirlock);
	return 0;
}

static int
cmd_kill(int sig, const char *uuid)
{
	char path[PATH_MAX], got[128];
	snprintf(path, sizeof path, "%s/" LOCKPREFIX "%s" LOCKSUFFIX, lock_dir(), uuid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : 1;
	long pid;
	int rc = lock_pid(fd, uuid, got, sizeof got, &pid);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "KillProcess: %s: bogus procinfo\n", path);
		return 1;
	}
	if (kill((pid_t)pid, sig) < 0)
		return 0;
	for (int i = 0; i < 100 && pid_alive(pid); i++)
		usleep(10000);
	if (pid_alive(pid)) {
		fprintf(stderr, "KillProcess: pid %ld: sent signal %d but process is still alive\n",
			pid, sig);
		return 1;
	}
	return 0;
}

/* Go flag rules as the stub has them: -x or --x, -x=v; these take the next word as value. */
static int
value_flag(const char *name, size_t len)
{
	static const char *const names[] = { "kill",
					     "runtime-engine",
					     "broken-node-hook",
					     "cgroup-parent",
					     "cgroup-parent-subsystem",
					     "arv-mount-debug-log",
					     "container-enable-networking",
					     "container-network-mode",
					     "brokenfile",
					     "log-dir" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	find_worker_dir();
	record_invocation(argc, argv);
	int list = 0, detach = 0, prices = 0, sig = -1, i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == 0)
			break;
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const char *val = eq ? eq + 1 : NULL;
		if (!val && value_flag(name, len) && i + 1 < argc)
			val = argv[++i];
		if (len == 4 && strncmp(name, "list", 4) == 0)
			list = 1;
		else if (len == 6 && strncmp(name, "detach", 6) == 0)
			detach = 1;
		else if (len == 12 && strncmp(name, "stdin-prices", 12) == 0)
			prices = 1;
		else if (len == 4 && strncmp(name, "kill", 4) == 0)
			sig = val ? atoi(val) : -1;
	}
	if (list)
		return cmd_list(prices);
	if (i != argc - 1) {
		fputs("usage: crunch-run [options] <container uuid>\n", stderr);
		return 2;
	}
	if (sig >= 0)
		return cmd_kill(sig, argv[i]);
	if (detach)
		return cmd_detach(argv[i]);
	fputs("bench_crunch_run: only --detach, --list and --kill are implemented\n", stderr);
	return 2;
}
