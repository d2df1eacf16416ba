"""SigV4 verification of incoming EC2 Query requests, using botocore's own signer.

We rebuild an AWSRequest from exactly the headers the client says it signed and let
botocore compute the canonical request, string to sign and signature; comparing that
with the client's signature is the check.  Error codes/statuses are EC2's.
"""
import datetime
import hmac

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGO = "AWS4-HMAC-SHA256"


class AuthError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _fail_sig(msg=None):
    return AuthError(403, "SignatureDoesNotMatch", msg or (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."))


def _fail_creds():
    return AuthError(401, "AuthFailure", "AWS was not able to validate the provided access credentials")


def auth_parse_header(value):
    """Split 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...' into a dict."""
    if not value.startswith(ALGO + " "):
        raise AuthError(400, "IncompleteSignature", "Unsupported authorization type (only %s is accepted)" % ALGO)
    fields = {}
    for part in value[len(ALGO) + 1:].split(","):
        if "=" not in part:
            raise AuthError(400, "IncompleteSignature", "Authorization header requires key=value pairs")
        k, v = part.strip().split("=", 1)
        fields[k] = v
    for k in ("Credential", "SignedHeaders", "Signature"):
        if k not in fields:
            raise AuthError(400, "IncompleteSignature",
                "Authorization header requires '%s' parameter. Authorization=%s" % (k, value))
    return fields


def auth_verify(keys, region, method, path, headers, body, max_skew, now=None):
    """Return the access key id that signed the request, or raise AuthError.

    keys: {akid: {"secret": s, "token": t or None}}.  headers: an email.message.Message-like
    mapping (case-insensitive get).  max_skew: seconds X-Amz-Date may differ from now.
    """
    auth = headers.get("Authorization")
    if not auth:
        raise AuthError(401, "MissingAuthenticationToken", "Request is missing Authentication Token")
    f = auth_parse_header(auth)
    cred = f["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request":
        raise AuthError(400, "IncompleteSignature", "Credential must have exactly 5 slash-delimited elements, "
            "e.g. keyid/date/region/service/term, got '%s'" % f["Credential"])
    akid, day, cregion, service, _ = cred
    amz_date = headers.get("X-Amz-Date")
    if not amz_date:
        raise AuthError(400, "IncompleteSignature", "Authorization header requires existence of either a "
            "'X-Amz-Date' or a 'Date' header.")
    try:
        ts = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise AuthError(400, "IncompleteSignature", "Invalid X-Amz-Date '%s'" % amz_date)
    signed = f["SignedHeaders"].split(";")
    if "host" not in signed:
        raise AuthError(400, "IncompleteSignature", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if akid not in keys:
        raise _fail_creds()
    if cregion != region:
        raise _fail_sig("Credential should be scoped to a valid region, not '%s'. " % cregion)
    if service != "ec2":
        raise _fail_sig("Credential should be scoped to correct service: 'ec2'. ")
    if day != amz_date[:8]:
        raise _fail_sig("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            "'%s' != '%s', from '%s'." % (day, amz_date[:8], amz_date))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs((now - ts).total_seconds()) > max_skew:
        raise AuthError(400, "RequestExpired", "Request has expired.")
    key = keys[akid]
    token = headers.get("X-Amz-Security-Token")
    if (key.get("token") or None) != (token or None):
        raise _fail_creds()
    req = AWSRequest(method=method, url=path, data=body,
        headers={k: v for k, v in headers.items() if k.lower() in signed})
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(akid, key["secret"], key.get("token")), "ec2", region)
    want = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
    if not hmac.compare_digest(want, f["Signature"]):
        raise _fail_sig()
    return akid
