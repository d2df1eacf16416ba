"""Key pair fingerprints as EC2 computes them for ImportKeyPair (spec cloud-drivers.md 2.3).

RSA: MD5 of the DER SubjectPublicKeyInfo, as colon-separated hex.  ED25519: the OpenSSH
SHA256 fingerprint ("SHA256:" + base64 of SHA-256 of the SSH wire blob); we store it padded
("...=") -- AWS documents "base64-encoded SHA-256 digest", and the reference driver searches
both the padded and unpadded spellings, so either works with it.
"""
import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


class KeyFormatError(Exception):
    pass


def keys_fingerprint(material):
    """material: bytes of an OpenSSH public key line.  Returns (key_type, fingerprint)."""
    try:
        key = serialization.load_ssh_public_key(material.strip())
    except (ValueError, TypeError, IndexError):
        raise KeyFormatError("Key is not in valid OpenSSH public key format")
    if isinstance(key, rsa.RSAPublicKey):
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa", ":".join("%02x" % b for b in hashlib.md5(der).digest())
    if isinstance(key, ed25519.Ed25519PublicKey):
        blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
        digest = hashlib.sha256(base64.b64decode(blob)).digest()
        return "ed25519", "SHA256:" + base64.b64encode(digest).decode()
    # EC2 accepts only RSA and ED25519 key material.
    raise KeyFormatError("Key is not in valid OpenSSH public key format")
