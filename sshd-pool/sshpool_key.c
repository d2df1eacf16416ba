/* sshpool_key.c - parsing the dispatch key with libssh, deriving its public line. */
#include "sshpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sshpool_key_load(const char *text, ssh_key *key, char **public_line, char *why, size_t len)
{
	ssh_key pub = NULL;
	char *b64 = NULL;
	const char *type;
	int r;

	*key = NULL;
	*public_line = NULL;
	if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, key) != SSH_OK) {
		snprintf(why, len, "ssh: no key found or unsupported key format");
		return -1;
	}
	if (ssh_pki_export_privkey_to_pubkey(*key, &pub) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK) {
		snprintf(why, len, "ssh: cannot derive the public key");
		ssh_key_free(pub);
		ssh_key_free(*key);
		*key = NULL;
		return -1;
	}
	type = ssh_key_type_to_char(ssh_key_type(pub));
	r = asprintf(public_line, "%s %s", type ? type : "unknown", b64);
	ssh_string_free_char(b64);
	ssh_key_free(pub);
	if (r < 0) {
		*public_line = NULL;
		ssh_key_free(*key);
		*key = NULL;
		snprintf(why, len, "out of memory");
		return -1;
	}
	return 0;
}
