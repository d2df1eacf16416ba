/*
 * ec2_keypair.h - fingerprints of the dispatcher's public key as EC2 computes them (2.3):
 * RSA: MD5 and SHA-1 of the DER SubjectPublicKeyInfo, as colon-separated lowercase hex;
 * other types (ed25519): "SHA256:" + base64 of SHA-256 of the SSH wire blob, with and
 * without the '=' padding.
 */
#ifndef ADC_EC2_KEYPAIR_H
#define ADC_EC2_KEYPAIR_H

#include <stddef.h>

struct ec2_fps {
	char fp[2][128];
};

/* authorized_keys line "ssh-rsa AAAA... [comment]". 0, or -EINVAL with a reason. */
int ec2_key_fingerprints(const char *pubkey, struct ec2_fps *out, char *err, size_t errlen);

#endif
