"""Schemathesis hooks for the Kring relay: every request is signed as a device would
sign it (docs/relay-api.md, "Authentication: signed requests"), over the exact bytes
`requests` is about to send, so generated cases get past authentication and exercise
the handlers behind it.

Loaded by scripts/schemathesis.sh through SCHEMATHESIS_HOOKS.
"""

import base64
import os
import threading
import time

import blake3
import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DOMAIN = b"kring/request/v1\x00"

# A fixed key when KRING_ST_SEED (64 hex) is given, so a failing run can be repeated.
_seed = os.environ.get("KRING_ST_SEED")
_key = (
    Ed25519PrivateKey.from_private_bytes(bytes.fromhex(_seed))
    if _seed
    else Ed25519PrivateKey.generate()
)
DEVICE = _key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

_lock = threading.Lock()
_last = [0]


def _timestamp() -> int:
    # Strictly increasing: the relay refuses a repeated signature as a replay.
    with _lock:
        now = max(int(time.time() * 1000), _last[0] + 1)
        _last[0] = now
        return now


class KringSignature(requests.auth.AuthBase):
    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        ts = _timestamp()
        canonical = "\n".join(
            [
                "kring-request-v1",
                r.method.upper(),
                r.path_url,
                blake3.blake3(body).hexdigest(),
                str(ts),
                DEVICE,
            ]
        ).encode("utf-8")
        signature = _key.sign(DOMAIN + canonical)
        r.headers["x-kring-device"] = DEVICE
        r.headers["x-kring-timestamp"] = str(ts)
        r.headers["x-kring-signature"] = base64.b64encode(signature).decode("ascii")
        return r


@schemathesis.hook
def before_call(context, case, kwargs):
    # Half the cases signed (the handlers behind authentication), half as generated
    # (authentication itself). Path parameters count, so operations without a query
    # or body (DELETE, close) get both halves too.
    key = (case.method, case.path, str(case.path_parameters), str(case.query), str(case.body))
    if hash(key) % 2 == 0:
        kwargs["auth"] = KringSignature()
