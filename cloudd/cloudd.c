/* cloudd.c - cloudd's init: the driver's parameters arrive as an fd and stay here. */
#include "cloudd.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secret_fd.h"
#include "util.h"

#define CLOUDD_MAX_PARAMS (1u << 20)

static const char *const cloudd_drivers[] = { "ec2", "azure", "loopback" };

/* cJSON holds DriverParameters (credentials): every block it frees is wiped first. */
static void
cloudd_wiping_free(void *p)
{
	if (p != NULL)
		adc_wipe(p, malloc_usable_size(p));
	free(p);
}

int
cloudd_setup(struct cloudd *cd, const char *driver)
{
	cJSON_Hooks hooks = { .malloc_fn = malloc, .free_fn = cloudd_wiping_free };

	cJSON_InitHooks(&hooks);
	for (size_t i = 0; driver != NULL && i < sizeof(cloudd_drivers) / sizeof(*cloudd_drivers); i++)
		if (strcmp(driver, cloudd_drivers[i]) == 0) {
			snprintf(cd->driver, sizeof(cd->driver), "%s", driver);
			return 0;
		}
	log_kv(LOG_LVL_FATAL, "unsupported cloud driver", LF_STR("Driver", driver ? driver : ""));
	return -1;
}

static int
cloudd_answer(struct proto_wbuf *ans, int32_t status, const char *msg)
{
	return proto_status_encode(ans, PROTO_CLOUD_INIT_ANS, 0,
				   &(struct proto_status){ .status = status, .message = (char *)msg });
}

static int
cloudd_load_params(struct cloudd *cd, int fd, const char *inline_json)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (fd >= 0) {
		int r = secret_fd_read(fd, &buf, &len, CLOUDD_MAX_PARAMS);
		close(fd);
		if (r != 0)
			return r;
	}
	cd->params = cJSON_Parse(buf != NULL ? (const char *)buf : inline_json);
	if (buf != NULL) {
		adc_wipe(buf, len);
		free(buf);
	}
	if (cd->params == NULL || !cJSON_IsObject(cd->params)) {
		cJSON_Delete(cd->params);
		cd->params = NULL;
		return -EINVAL;
	}
	return 0;
}

int
cloudd_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg)
{
	struct cloudd *cd = arg;
	struct proto_cloud_init ci;
	int r;

	if (proto_cloud_init_decode(m, &ci) != 0) {
		if (m->fd >= 0)
			close(m->fd);
		cloudd_answer(ans, PROTO_E_INVALID, "malformed init");
		return -1;
	}
	if (strcmp(ci.driver, cd->driver) != 0) {
		if (m->fd >= 0)
			close(m->fd);
		proto_cloud_init_free(&ci);
		cloudd_answer(ans, PROTO_E_INVALID, "driver differs from the one cloudd was started for");
		return -1;
	}
	r = cloudd_load_params(cd, m->fd, ci.driver_params_json);
	if (r != 0) {
		proto_cloud_init_free(&ci);
		cloudd_answer(ans, PROTO_E_INVALID,
			      "Containers.CloudVMs.DriverParameters is not a JSON object");
		return -1;
	}
	cd->instance_set_id = ci.instance_set_id;
	cd->tag_key_prefix = ci.tag_key_prefix;
	ci.instance_set_id = ci.tag_key_prefix = NULL;
	proto_cloud_init_free(&ci);
	cd->initialised = true;
	log_kv(LOG_LVL_INFO, "cloud driver configured", LF_STR("Driver", cd->driver),
	       LF_STR("InstanceSetID", cd->instance_set_id));
	return cloudd_answer(ans, PROTO_OK, "") == 0 ? 0 : -1;
}

void
cloudd_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	(void)arg;
	/* The catalogue has no cloud verbs yet: proto_chan refuses them before we get here. */
	if (m->fd >= 0)
		close(m->fd);
	proto_chan_close(ch, -EPROTO, "unexpected request");
}

void
cloudd_teardown(struct cloudd *cd)
{
	cJSON_Delete(cd->params);
	free(cd->instance_set_id);
	free(cd->tag_key_prefix);
	memset(cd, 0, sizeof(*cd));
}
