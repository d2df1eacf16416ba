/* dispatch_gate.c - see dispatch_gate.h. One loop, one thread: plain statics. */
#include "dispatch_gate.h"

#include <stdio.h>

static bool gate_closed;
static char gate_reason[256] = "waiting for the PostgreSQL advisory lock";

bool
dispatch_gate_open(void)
{
	return !gate_closed;
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
	snprintf(buf, len, "STATUS=standby: %s", gate_reason);
	return true;
}
