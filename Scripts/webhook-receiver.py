#!/usr/bin/env python3
"""A webhook receiver for Skygate events, standard library only (docs/events.md, "Webhooks").

Checks every POST the way a real receiver should: the X-Skygate-Timestamp is recent and the
X-Skygate-Signature is sha256=HMAC-SHA256(secret, "<timestamp>." + body). Answers 200 to good
requests and 401 to bad ones, and appends one JSON line per request to OUT:
{"ok": true, "delivery": "...", "ids": [...], "gateway": "..."} or {"ok": false, "problem": "..."}.
Prints "listening PORT" once bound (PORT 0 picks a free one).

    Scripts/webhook-receiver.py PORT SECRET_FILE OUT
"""
import hashlib
import hmac
import http.server
import json
import sys
import time

port, secret_file, out_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(secret_file, "rb") as f:
    secret = f.read()
if secret.endswith(b"\n"):
    secret = secret[:-1]
out = open(out_path, "a", buffering=1)


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        stamp = self.headers.get("X-Skygate-Timestamp", "")
        given = self.headers.get("X-Skygate-Signature", "")
        expected = "sha256=" + hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        problem = None
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > 300:
            problem = "timestamp %r is not now" % stamp
        elif not hmac.compare_digest(given, expected):
            problem = "signature %r does not match" % given
        if problem is None:
            document = json.loads(body)
            line = {"ok": True, "delivery": self.headers.get("X-Skygate-Delivery", ""),
                    "gateway": document.get("gateway"), "ids": [event["id"] for event in document["events"]]}
        else:
            line = {"ok": False, "problem": problem}
        out.write(json.dumps(line) + "\n")
        self.send_response(200 if problem is None else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
