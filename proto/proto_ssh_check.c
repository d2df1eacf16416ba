/*
 * proto_ssh_check.c - value checks of the worker operations, run by the parent before it
 * encodes (sshc.c) and again by sshd-pool after it decodes. sshd-pool's own command builder
 * (sshd-pool/quote.c) checks once more before anything reaches a worker's shell.
 */
#include "container_uuid.h"
#include "proto_ssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool
pssh_span(const char *s, size_t min, size_t max, const char *first, const char *rest)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) < min || n > max)
		return false;
	if (n > 0 && first != NULL && strchr(first, s[0]) == NULL)
		return false;
	return strspn(s + (first != NULL && n > 0), rest) == n - (first != NULL && n > 0);
}

#define PSSH_LOWER "abcdefghijklmnopqrstuvwxyz"
#define PSSH_DIGIT "0123456789"

bool
proto_ssh_valid_instance(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > PROTO_SSH_MAX_INSTANCE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

bool
proto_ssh_valid_address(const char *s)
{
	unsigned char buf[16];

	if (s == NULL || strlen(s) > PROTO_SSH_MAX_ADDRESS)
		return false;
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool
proto_ssh_valid_user(const char *s)
{
	return pssh_span(s, 1, 32, PSSH_LOWER "_", PSSH_LOWER PSSH_DIGIT "_.-");
}

bool
proto_ssh_valid_md5(const char *s)
{
	return pssh_span(s, 32, 32, NULL, PSSH_DIGIT "abcdef");
}

bool
proto_ssh_valid_engine(const char *s)
{
	return pssh_span(s, 1, 64, PSSH_LOWER PSSH_DIGIT, PSSH_LOWER PSSH_DIGIT "_-");
}

bool
proto_ssh_valid_imds_url(const char *s)
{
	const char *host, *colon;
	size_t n;

	if (s == NULL || (n = strlen(s)) > PROTO_SSH_MAX_IMDS_URL || strncmp(s, "http://", 7) != 0)
		return false;
	host = s + 7;
	colon = strchr(host, ':');
	n = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if (n == 0 || strspn(host, PSSH_LOWER PSSH_DIGIT "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-") != n ||
	    host[0] == '-' || host[0] == '.')
		return false;
	return colon == NULL || pssh_span(colon + 1, 1, 5, NULL, PSSH_DIGIT);
}

bool
proto_ssh_valid_imds_kind(const char *s)
{
	return s != NULL && (strcmp(s, "ec2") == 0 || strcmp(s, "azure") == 0);
}

static int
pssh_bad(char *why, size_t len, const char *what, const char *value)
{
	snprintf(why, len, "invalid %s: \"%.60s\"", what, value ? value : "(null)");
	return -EINVAL;
}

int
proto_ssh_target_check(const struct proto_ssh_target *m, char *why, size_t len)
{
	if (!proto_ssh_valid_instance(m->instance_id))
		return pssh_bad(why, len, "instance id", m->instance_id);
	return 0;
}

int
proto_ssh_verify_check(const struct proto_ssh_verify *m, char *why, size_t len)
{
	if (!proto_ssh_valid_instance(m->instance_id))
		return pssh_bad(why, len, "instance id", m->instance_id);
	if (!proto_ssh_valid_address(m->address))
		return pssh_bad(why, len, "address (an IP literal)", m->address);
	if (m->port == 0)
		return pssh_bad(why, len, "port", "0");
	if (!proto_ssh_valid_user(m->user))
		return pssh_bad(why, len, "remote user", m->user);
	if (m->secret == NULL || m->secret_len == 0 || m->secret_len > PROTO_SSH_MAX_SECRET)
		return pssh_bad(why, len, "instance secret", "(empty or too long)");
	return 0;
}

int
proto_ssh_deploy_check(const struct proto_ssh_deploy *m, char *why, size_t len)
{
	if (!proto_ssh_valid_instance(m->instance_id))
		return pssh_bad(why, len, "instance id", m->instance_id);
	if (!proto_ssh_valid_md5(m->md5))
		return pssh_bad(why, len, "runner md5", m->md5);
	return 0;
}

int
proto_ssh_run_probe_check(const struct proto_ssh_run_probe *m, char *why, size_t len)
{
	if (!proto_ssh_valid_instance(m->instance_id))
		return pssh_bad(why, len, "instance id", m->instance_id);
	if (m->prices_len > PROTO_SSH_MAX_PRICES)
		return pssh_bad(why, len, "prices", "(too long)");
	return 0;
}

int
proto_ssh_start_check(const struct proto_ssh_start *m, bool with_fd, char *why, size_t len)
{
	if (!proto_ssh_valid_instance(m->instance_id))
		return pssh_bad(why, len, "instance id", m->instance_id);
	if (!container_uuid_valid(m->uuid))
		return pssh_bad(why, len, "container UUID", m->uuid);
	if (!proto_ssh_valid_engine(m->runtime_engine))
		return pssh_bad(why, len, "runtime engine", m->runtime_engine);
	if (m->nargs > PROTO_SSH_MAX_ARGS || (m->nargs > 0 && m->args == NULL))
		return pssh_bad(why, len, "argument list", "(too many)");
	for (uint32_t i = 0; i < m->nargs; i++)
		if (m->args[i] == NULL || strlen(m->args[i]) > PROTO_SSH_MAX_ARG)
			return pssh_bad(why, len, "argument", m->args[i]);
	if (!with_fd &&
	    (m->payload == NULL || m->payload_len == 0 || m->payload_len > PROTO_SSH_MAX_INLINE))
		return pssh_bad(why, len, "payload", "(empty or too long to send inline)");
	return 0;
}

int
proto_ssh_kill_check(const struct proto_ssh_kill *m, char *why, size_t len)
{
	char sig[8];

	if (!proto_ssh_valid_instance(m->instance_id))
		return pssh_bad(why, len, "instance id", m->instance_id);
	if (!container_uuid_valid(m->uuid))
		return pssh_bad(why, len, "container UUID", m->uuid);
	if (m->signal < 1 || m->signal > 64) {
		snprintf(sig, sizeof(sig), "%u", (unsigned)m->signal);
		return pssh_bad(why, len, "signal", sig);
	}
	return 0;
}
