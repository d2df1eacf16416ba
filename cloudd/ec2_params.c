/* ec2_params.c - DriverParameters JSON to struct ec2_params. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ec2_params.h"
#include "util.h"

static char *
ec2_pstr(const cJSON *j, const char *key, const char *def, int *bad)
{
	const cJSON *v = cJSON_GetObjectItem(j, key); /* case-insensitive */

	if (v && !cJSON_IsNull(v) && !cJSON_IsString(v)) {
		*bad = 1;
		return NULL;
	}
	return strdup(v && cJSON_IsString(v) ? v->valuestring : def);
}

static int
ec2_strlist_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* A string, a list of strings, or a map whose keys are the values (SecurityGroupIDs). */
static int
ec2_plist(const cJSON *j, const char *key, char ***v, size_t *n, char *err, size_t errlen)
{
	const cJSON *x = cJSON_GetObjectItem(j, key), *e;

	if (!x || cJSON_IsNull(x))
		return 0;
	if (cJSON_IsString(x))
		return *x->valuestring ? ec2_strlist_add(v, n, x->valuestring) : 0;
	if (!cJSON_IsArray(x) && !cJSON_IsObject(x))
		goto bad;
	cJSON_ArrayForEach(e, x)
	{
		const char *s = cJSON_IsObject(x) ? e->string : e->valuestring;

		if (cJSON_IsArray(x) && !cJSON_IsString(e))
			goto bad;
		if (s && *s && ec2_strlist_add(v, n, s) < 0)
			return -ENOMEM;
	}
	return 0;
bad:
	snprintf(err, errlen, "EC2 DriverParameters: %s must be a string or a list of strings",
		 key);
	return -EINVAL;
}

static int
ec2_pqg(const cJSON *j, struct ec2_params *p, char *err, size_t errlen)
{
	const cJSON *x = cJSON_GetObjectItem(j, "InstanceTypeQuotaGroups"), *e;

	if (!x || cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsObject(x)) {
		snprintf(err, errlen,
			 "EC2 DriverParameters: InstanceTypeQuotaGroups must be a map");
		return -EINVAL;
	}
	cJSON_ArrayForEach(e, x)
	{
		struct ec2_qg_entry *nq;

		if (!cJSON_IsString(e)) {
			snprintf(err, errlen, "EC2 InstanceTypeQuotaGroups.%s must be a string",
				 e->string);
			return -EINVAL;
		}
		nq = realloc(p->qg, (p->n_qg + 1) * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		p->qg = nq;
		nq[p->n_qg].prefix = strdup(e->string);
		nq[p->n_qg].group = strdup(e->valuestring);
		if (!nq[p->n_qg].prefix || !nq[p->n_qg].group) {
			free(nq[p->n_qg].prefix);
			free(nq[p->n_qg].group);
			return -ENOMEM;
		}
		for (char *c = nq[p->n_qg].prefix; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		p->n_qg++;
	}
	return 0;
}

static int
ec2_pduration(const cJSON *j, const char *key, int64_t *out_s, char *err, size_t errlen)
{
	const cJSON *x = cJSON_GetObjectItem(j, key);
	cfg_duration_ns ns = 0;

	*out_s = 0;
	if (!x || cJSON_IsNull(x))
		return 0;
	if (cJSON_IsNumber(x))
		ns = (cfg_duration_ns)x->valuedouble;
	else if (!cJSON_IsString(x) || cfg_parse_duration(x->valuestring, &ns) < 0 || ns < 0) {
		snprintf(err, errlen, "EC2 DriverParameters: %s is not a duration", key);
		return -EINVAL;
	}
	*out_s = ns / 1000000000;
	return 0;
}

int
ec2_params_parse(const cJSON *j, struct ec2_params *p, char *err, size_t errlen)
{
	const cJSON *price = cJSON_GetObjectItem(j, "EBSPrice");
	int bad = 0, rc;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "EC2 DriverParameters must be a map");
		return -EINVAL;
	}
	p->akid = ec2_pstr(j, "AccessKeyID", "", &bad);
	p->secret = ec2_pstr(j, "SecretAccessKey", "", &bad);
	p->region = ec2_pstr(j, "Region", "", &bad);
	p->admin_user = ec2_pstr(j, "AdminUsername", "crunch", &bad);
	p->ebs_type = ec2_pstr(j, "EBSVolumeType", "gp2", &bad);
	p->iam_profile = ec2_pstr(j, "IAMInstanceProfile", "", &bad);
	if (bad) {
		snprintf(err, errlen, "EC2 DriverParameters: a string key has a non-string value");
		rc = -EINVAL;
		goto fail;
	}
	if (!p->akid || !p->secret || !p->region || !p->admin_user || !p->ebs_type ||
	    !p->iam_profile) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!p->ebs_type[0]) {
		free(p->ebs_type);
		if (!(p->ebs_type = strdup("gp2"))) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	p->ebs_price = cJSON_IsNumber(price) ? price->valuedouble : 0;
	if ((rc = ec2_plist(j, "SecurityGroupIDs", &p->sgs, &p->n_sgs, err, errlen)) ||
	    (rc = ec2_plist(j, "SubnetID", &p->subnets, &p->n_subnets, err, errlen)) ||
	    (rc = ec2_pqg(j, p, err, errlen)) ||
	    (rc = ec2_pduration(j, "SpotPriceUpdateInterval", &p->spot_interval_s, err, errlen)))
		goto fail;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	ec2_params_free(p);
	return rc;
}

void
ec2_params_free(struct ec2_params *p)
{
	free(p->akid);
	adc_free_secret_str(p->secret);
	free(p->region);
	for (size_t i = 0; i < p->n_sgs; i++)
		free(p->sgs[i]);
	free(p->sgs);
	for (size_t i = 0; i < p->n_subnets; i++)
		free(p->subnets[i]);
	free(p->subnets);
	free(p->admin_user);
	free(p->ebs_type);
	free(p->iam_profile);
	for (size_t i = 0; i < p->n_qg; i++) {
		free(p->qg[i].prefix);
		free(p->qg[i].group);
	}
	free(p->qg);
	memset(p, 0, sizeof(*p));
}
