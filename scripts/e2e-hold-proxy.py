#!/usr/bin/env python3
"""A proxy in front of a real Label Studio that holds one answer: the 201 of a PAT mint
(POST /api/token/). The PAT is minted and live on the server while lsauth waits for the
answer; the e2e suite then signals lsauth or fills its disk, and lets the answer go.

    e2e-hold-proxy.py PORT UPSTREAM_URL READY_FILE RELEASE_FILE

READY_FILE is created when a mint's 201 has come back from Label Studio; the answer is
passed on once RELEASE_FILE exists (at most 120 s later). Every other request, and a mint
answered otherwise (409), passes straight through. Loopback only; it stops with its
process group.
"""
import http.client
import http.server
import os
import sys
import time
import urllib.parse

PORT, UPSTREAM, READY, RELEASE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
up = urllib.parse.urlsplit(UPSTREAM)
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
        headers["Host"] = up.netloc
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        conn.request(self.command, self.path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        if self.command == "POST" and self.path.split("?")[0] == "/api/token/" and answer.status == 201:
            open(READY, "w").close()
            until = time.time() + 120
            while not os.path.exists(RELEASE) and time.time() < until:
                time.sleep(0.02)
        self.send_response(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy).serve_forever()
