"""A Web Push service on loopback for the end-to-end test, written with
implementations no one on the project wrote: `http_ece` (RFC 8188/8291 aes128gcm
decryption), `py_vapid` (the VAPID JWT check of RFC 8292) and `cryptography`.

It plays every fake device's push service at once. Control (JSON over HTTP):

  POST /devices/NAME        -> {"endpoint", "p256dh", "auth"}: a new subscription
                               (a P-256 key pair and a 16-byte secret, like a browser)
  POST /answer/NAME/STATUS  -> from now on answer pushes to NAME with STATUS
  GET  /received            -> every push received, in order

A push (POST /push/NAME) is checked: the VAPID token's signature against the key in
its header, that key equal to the relay's (--vapid-key), audience, expiry and
subject; the headers TTL, Urgency and Content-Encoding: aes128gcm; then the body is
decrypted with the device's private key and secret. Each push is recorded with what
was checked (`checks`: a list of failures, empty when all is well) and the decrypted
payload as text.

Usage: python3 push_receiver.py --vapid-key BASE64URL
Prints "listening on 127.0.0.1:PORT" once it serves.
"""

import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import jwt as vapid_jwt


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class State:
    def __init__(self, vapid_key: str):
        self.vapid_key = vapid_key
        self.lock = threading.Lock()
        self.devices = {}  # name -> (private key, auth secret)
        self.answers = {}  # name -> status
        self.received = []


def check_vapid(state: State, authorization: str, origin: str) -> list:
    """The RFC 8292 checks; returns what failed."""
    failures = []
    if not authorization.lower().startswith("vapid "):
        return ["Authorization is not the vapid scheme"]
    params = {}
    for part in authorization[len("vapid "):].split(","):
        key, _, value = part.strip().partition("=")
        params[key] = value
    token, key = params.get("t", ""), params.get("k", "")
    if key != state.vapid_key:
        failures.append("k is not the relay's VAPID key")
    try:
        claims = vapid_jwt.decode(token, key)
    except Exception as e:  # InvalidSignature and malformed tokens alike
        return failures + [f"VAPID signature does not verify: {e!r}"]
    now = time.time()
    if claims.get("aud") != origin:
        failures.append(f"aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp", 0)
    if not (now < exp <= now + 24 * 3600 + 60):
        failures.append(f"exp {exp} not within 24 hours")
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https://")):
        failures.append(f"sub {sub!r} is not a contact")
    return failures


def handler_for(state: State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status: int, body=None):
            data = json.dumps(body if body is not None else {}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/received":
                with state.lock:
                    return self.reply(200, list(state.received))
            self.reply(404)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "devices":
                return self.new_device(parts[1])
            if len(parts) == 3 and parts[0] == "answer":
                with state.lock:
                    state.answers[parts[1]] = int(parts[2])
                return self.reply(200)
            if len(parts) == 2 and parts[0] == "push":
                return self.push(parts[1], body)
            self.reply(404)

        def new_device(self, name: str):
            private = ec.generate_private_key(ec.SECP256R1())
            auth = os.urandom(16)
            with state.lock:
                state.devices[name] = (private, auth)
            public = private.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
            host, port = self.server.server_address[:2]
            self.reply(
                200,
                {
                    "endpoint": f"http://{host}:{port}/push/{name}",
                    "p256dh": b64url(public),
                    "auth": b64url(auth),
                },
            )

        def push(self, name: str, body: bytes):
            host, port = self.server.server_address[:2]
            with state.lock:
                device = state.devices.get(name)
                status = state.answers.get(name, 201)
            record = {"device": name, "checks": [], "payload": None}
            record["checks"] += check_vapid(
                state, self.headers.get("authorization", ""), f"http://{host}:{port}"
            )
            if self.headers.get("content-encoding") != "aes128gcm":
                record["checks"].append("Content-Encoding is not aes128gcm")
            ttl = self.headers.get("ttl", "")
            if not ttl.isdigit():
                record["checks"].append(f"TTL {ttl!r} is not a number of seconds")
            if self.headers.get("urgency") not in ("very-low", "low", "normal", "high"):
                record["checks"].append("no valid Urgency")
            record["ttl"] = ttl
            record["urgency"] = self.headers.get("urgency")
            record["topic"] = self.headers.get("topic")
            record["bytes"] = len(body)
            if device is None:
                record["checks"].append("push to an unknown device")
            else:
                private, auth = device
                try:
                    plain = http_ece.decrypt(
                        body, private_key=private, auth_secret=auth, version="aes128gcm"
                    )
                    record["payload"] = plain.decode("utf-8")
                except Exception as e:
                    record["checks"].append(f"does not decrypt: {e!r}")
            with state.lock:
                state.received.append(record)
            self.reply(status)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vapid-key", required=True)
    args = parser.parse_args()
    state = State(args.vapid_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    # Stop when the test closes standard input (or dies).
    threading.Thread(
        target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True
    ).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
