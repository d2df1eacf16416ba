/* port_ssh.c - see port_ssh.h. */
#include "port_ssh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshc.h"

/* pool_probe.c spells the prefix out (the pool does not include the protocol). */
_Static_assert(sizeof(PROTO_SSH_HOST_KEY_PREFIX) == sizeof("host-key "),
	       "pool_probe.c's \"host-key \" prefix");

struct port_ssh_call {
	pool_ssh_cb cb;
	void *arg;
};

static enum pool_ssh_outcome
port_ssh_outcome(const struct sshc_result *r)
{
	switch (r->status) {
	case PROTO_OK:
		break;
	case PROTO_E_RETRY:
		return POOL_SSH_UNVERIFIED;
	case PROTO_E_TIMEOUT:
		return POOL_SSH_TIMEOUT;
	default:
		return POOL_SSH_FAILED;
	}
	/* enum pool_ssh_outcome follows enum proto_ssh_outcome value for value. */
	if (r->outcome < PROTO_SSH_OK || r->outcome > PROTO_SSH_OUTCOME_LAST)
		return POOL_SSH_FAILED;
	return (enum pool_ssh_outcome)r->outcome;
}

static void
port_ssh_done(const struct sshc_result *r, void *arg)
{
	struct port_ssh_call *c = arg;
	struct pool_ssh_result pr = {
		.outcome = port_ssh_outcome(r),
		.exit_status = r->exit_status,
		.out = (const char *)r->out,
		.out_len = r->out_len,
		.err = (const char *)r->err,
		.err_len = r->err_len,
		.message = r->message != NULL ? r->message : "",
	};

	if (r->status == PROTO_E_RETRY)
		pr.message = "sshd-pool restarted before answering";
	else if (r->status == PROTO_E_TIMEOUT)
		pr.message = "sshd-pool did not answer in time";
	c->cb(c->arg, &pr);
	free(c);
}

static struct port_ssh_call *
port_ssh_call(pool_ssh_cb cb, void *arg)
{
	struct port_ssh_call *c = malloc(sizeof(*c));

	if (c != NULL) {
		c->cb = cb;
		c->arg = arg;
	}
	return c;
}

/* r != 0: nothing was sent and no callback will run. */
static int
port_ssh_sent(struct port_ssh_call *c, int r)
{
	if (r != 0)
		free(c);
	return r;
}

#define PORT_SSH_BEGIN(cb, arg)                           \
	if (*ps->sshpool == NULL)                         \
		return -EAGAIN;                           \
	struct port_ssh_call *c = port_ssh_call(cb, arg); \
	if (c == NULL)                                    \
	return -ENOMEM

static int
port_ssh_verify(void *ctx, const char *instance_id, const char *address, const char *user,
		const char *secret, uint32_t timeout_ms, pool_ssh_cb cb, void *arg)
{
	struct port_ssh *ps = ctx;
	char host[256];
	uint16_t port = ps->port;
	const char *colon = strchr(address, ':');

	/* "host:port" from a driver that gives one (loopback); IPv6 literals have several. */
	if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		char *end;
		unsigned long v = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || v == 0 || v > 65535 ||
		    (size_t)(colon - address) >= sizeof(host))
			return -EINVAL;
		memcpy(host, address, (size_t)(colon - address));
		host[colon - address] = '\0';
		port = (uint16_t)v;
	} else if (snprintf(host, sizeof(host), "%s", address) >= (int)sizeof(host)) {
		return -EINVAL;
	}
	PORT_SSH_BEGIN(cb, arg);
	struct sshc_worker w = {
		.instance_id = instance_id,
		.address = host,
		.port = port,
		.user = user != NULL && user[0] != '\0' ? user : "root",
	};
	return port_ssh_sent(c, sshc_verify(*ps->sshpool, &w, (const uint8_t *)secret,
					    strlen(secret), timeout_ms, port_ssh_done, c));
}

static int
port_ssh_boot_probe(void *ctx, const char *instance_id, uint32_t timeout_ms, pool_ssh_cb cb,
		    void *arg)
{
	struct port_ssh *ps = ctx;
	PORT_SSH_BEGIN(cb, arg);
	return port_ssh_sent(
		c, sshc_boot_probe(*ps->sshpool, instance_id, timeout_ms, port_ssh_done, c));
}

static int
port_ssh_deploy(void *ctx, const char *instance_id, uint32_t timeout_ms, pool_ssh_cb cb, void *arg)
{
	struct port_ssh *ps = ctx;

	if (ps->runner_fd < 0)
		return -EINVAL;
	PORT_SSH_BEGIN(cb, arg);
	return port_ssh_sent(c, sshc_deploy(*ps->sshpool, instance_id, ps->runner_fd,
					    ps->runner_md5, timeout_ms, port_ssh_done, c));
}

static int
port_ssh_run_probe(void *ctx, const char *instance_id, const char *prices, size_t len, bool spot,
		   uint32_t timeout_ms, pool_ssh_cb cb, void *arg)
{
	struct port_ssh *ps = ctx;
	PORT_SSH_BEGIN(cb, arg);
	return port_ssh_sent(c, sshc_run_probe(*ps->sshpool, instance_id, (const uint8_t *)prices,
					       prices != NULL ? len : 0, spot, timeout_ms,
					       port_ssh_done, c));
}

static int
port_ssh_start(void *ctx, const struct pool_ssh_start *s, uint32_t timeout_ms, pool_ssh_cb cb,
	       void *arg)
{
	struct port_ssh *ps = ctx;
	struct sshc_start st = {
		.instance_id = s->instance_id,
		.uuid = s->uuid,
		.runtime_engine = s->runtime_engine,
		.args = s->args,
		.nargs = s->nargs,
		.payload = (const uint8_t *)s->payload,
		.payload_len = s->payload_len,
	};
	PORT_SSH_BEGIN(cb, arg);
	return port_ssh_sent(c, sshc_start(*ps->sshpool, &st, timeout_ms, port_ssh_done, c));
}

static int
port_ssh_kill(void *ctx, const char *instance_id, const char *uuid, int signal, uint32_t timeout_ms,
	      pool_ssh_cb cb, void *arg)
{
	struct port_ssh *ps = ctx;
	PORT_SSH_BEGIN(cb, arg);
	return port_ssh_sent(c, sshc_kill(*ps->sshpool, instance_id, uuid, signal, timeout_ms,
					  port_ssh_done, c));
}

static void
port_ssh_forget_done(const struct sshc_result *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* Fire and forget: when sshd-pool is down its sessions are gone anyway. */
static void
port_ssh_forget(void *ctx, const char *instance_id)
{
	struct port_ssh *ps = ctx;

	if (*ps->sshpool != NULL)
		(void)sshc_forget(*ps->sshpool, instance_id, 0, port_ssh_forget_done, NULL);
}

void
port_ssh_init(struct port_ssh *ps, struct pool_ssh_port *port)
{
	*port = (struct pool_ssh_port){
		.ctx = ps,
		.verify = port_ssh_verify,
		.boot_probe = port_ssh_boot_probe,
		.deploy = port_ssh_deploy,
		.run_probe = port_ssh_run_probe,
		.start = port_ssh_start,
		.kill = port_ssh_kill,
		.forget = port_ssh_forget,
	};
}
