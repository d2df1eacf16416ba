/*
 * fuzz_ec2_imds.c - libFuzzer target for the instance metadata answers cloudd reads when the
 * EC2 driver takes its credentials from IMDS (cloudd/ec2_creds.c): the role listing and the
 * credentials document. Anything on the link-local network can answer IMDS, so both are
 * untrusted. Checks: a role that is accepted cannot change the next URL; accepted credentials
 * have a key id and a secret and an expiry (the refresh schedule depends on it).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *role = NULL, err[300] = "";
	struct ec2_cred c = { 0 };
	int rc;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0; /* curl_body hands answers over NUL-terminated */
	rc = ec2_imds_parse_role(s, &role);
	if (rc == 0 && (!role || !*role || strpbrk(role, "/?\r\n")))
		abort();
	if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
		abort();
	free(role);
	rc = ec2_imds_parse_creds(s, &c, err, sizeof(err));
	if (rc == 0 && (!c.akid || !*c.akid || !c.secret || !*c.secret || c.expires < 0))
		abort();
	if (rc != 0 && (c.akid || !err[0]))
		abort();
	ec2_cred_clear(&c);
	free(s);
	return 0;
}
