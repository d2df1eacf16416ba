/* dispatch_gate.c - see dispatch_gate.h. One loop, one thread: plain statics. */
#include "dispatch_gate.h"

#include <stdio.h>
#include <uv.h>

static bool gate_closed;
static uint64_t gate_lease_until;
static char gate_reason[256] = "waiting for the PostgreSQL advisory lock";

bool
dispatch_gate_open(void)
{
	return !gate_closed && (gate_lease_until == 0 || uv_hrtime() < gate_lease_until);
}

void
dispatch_gate_set_lease(uint64_t until_ns)
{
	gate_lease_until = until_ns;
}

void
dispatch_gate_set(bool open)
{
	gate_closed = !open;
}

void
dispatch_gate_set_reason(const char *reason)
{
	snprintf(gate_reason, sizeof(gate_reason), "%s", reason ? reason : "");
}

bool
dispatch_gate_status(char *buf, size_t len)
{
	if (!gate_closed)
		return false;
	snprintf(buf, len, "standby: %s", gate_reason);
	return true;
}
