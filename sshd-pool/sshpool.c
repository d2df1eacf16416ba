/* sshpool.c - sshd-pool's init: the key arrives as an fd, is parsed, and the raw bytes wiped. */
#include "sshpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secret_fd.h"
#include "util.h"

#define SSHPOOL_MAX_KEY (64u * 1024u)

static int
sshpool_answer(struct proto_wbuf *ans, int32_t status, const char *msg, const char *pub)
{
	return proto_ssh_init_ans_encode(ans, 0, &(struct proto_ssh_init_ans){
		.status = status, .message = (char *)msg, .public_key = (char *)(pub ? pub : "") });
}

/* The key text: from the attached fd, else from the payload. Caller wipes and frees. */
static int
sshpool_key_text(const struct proto_msg *m, struct proto_ssh_init *si, uint8_t **text, size_t *len)
{
	if (m->fd >= 0) {
		int r = secret_fd_read(m->fd, text, len, SSHPOOL_MAX_KEY);
		close(m->fd);
		return r;
	}
	if (si->private_key == NULL || si->private_key_len == 0)
		return -ENOENT;
	*text = malloc(si->private_key_len + 1);
	if (*text == NULL)
		return -ENOMEM;
	memcpy(*text, si->private_key, si->private_key_len);
	(*text)[si->private_key_len] = '\0';
	*len = si->private_key_len;
	return 0;
}

int
sshpool_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg)
{
	struct sshpool *sp = arg;
	struct proto_ssh_init si;
	uint8_t *text = NULL;
	size_t len = 0;
	char why[256];
	int r;

	if (proto_ssh_init_decode(m, &si) != 0) {
		if (m->fd >= 0)
			close(m->fd);
		sshpool_answer(ans, PROTO_E_INVALID, "malformed init", NULL);
		return -1;
	}
	r = sshpool_key_text(m, &si, &text, &len);
	if (r == 0) {
		r = sshpool_key_load((const char *)text, &sp->key, &sp->public_key, why, sizeof(why));
		adc_wipe(text, len);
		free(text);
	} else {
		snprintf(why, sizeof(why), "cannot read the key: %s", strerror(-r));
	}
	if (r != 0) {
		proto_ssh_init_free(&si);
		sshpool_answer(ans, PROTO_E_INVALID, why, NULL);
		return -1;
	}
	sp->boot_probe_command = si.boot_probe_command;
	sp->ssh_port = si.ssh_port;
	sp->cluster_id = si.cluster_id;
	si.boot_probe_command = si.ssh_port = si.cluster_id = NULL;
	proto_ssh_init_free(&si);
	log_kv(LOG_LVL_INFO, "dispatch key loaded", LF_STR("KeyType",
	       ssh_key_type_to_char(ssh_key_type(sp->key))));
	return sshpool_answer(ans, PROTO_OK, "", sp->public_key) == 0 ? 0 : -1;
}

void
sshpool_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	(void)arg;
	/* No worker operations in the catalogue yet: proto_chan refuses them before this. */
	if (m->fd >= 0)
		close(m->fd);
	proto_chan_close(ch, -EPROTO, "unexpected request");
}

void
sshpool_teardown(struct sshpool *sp)
{
	ssh_key_free(sp->key);
	free(sp->public_key);
	free(sp->boot_probe_command);
	free(sp->ssh_port);
	free(sp->cluster_id);
	memset(sp, 0, sizeof(*sp));
}
