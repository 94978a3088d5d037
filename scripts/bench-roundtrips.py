#!/usr/bin/env python3
"""Round trips of lsauth's networked commands, through a delaying proxy on loopback.

A Label Studio across a VPN or in another region is 50-300 ms away. This puts a proxy on
127.0.0.1 in front of a running Label Studio that holds every request for DELAY before
passing it on, runs each command at delay 0 and at delay D, and prints the effective number
of sequential round trips, (time at D - time at 0) / D, beside the command's dependent chain
(the fewest round trips its requests allow) and the requests it sent. Times are medians of
--runs runs; nothing is asserted (the integration suite asserts request counts).

    scripts/bench-roundtrips.py --url http://127.0.0.1:8080 --db sqlite:///path/label_studio.sqlite3 \
        --token LEGACY_KEY --email admin@example.com --password 'S3cret-pass!' [--delay 0.1] [--runs 3]

It changes the instance it measures, so point it at a throwaway one: legacy tokens are
switched on for every organization (`enable-legacy --all`, so the legacy rows pass), a PAT
is minted with the legacy token (an existing one of that user is revoked first) unless
--pat is given, and a project is created for `doctor --project`. Start a Label Studio for it
with any script that runs one on loopback (`scripts/e2e.sh` installs one under
~/.cache/lsauth-e2e).
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class DelayingProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.delay = 0.0
        self.requests = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        server = self.server
        with server.lock:
            server.requests.append((self.command, self.path))
        time.sleep(server.delay)
        conn = http.client.HTTPConnection(server.upstream.hostname, server.upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers["Host"] = f"{server.upstream.hostname}:{server.upstream.port}"
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PATCH = _forward


def foreign_pat(n):
    """A PAT-shaped refresh token signed by another instance's SECRET_KEY: refused at the
    refresh, one request, as a PAT of another instance is."""
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    now = int(time.time())
    header = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"token_type": "refresh", "exp": now + 86400, "iat": now, "jti": f"bench{n:04d}", "user_id": "1"}
    payload = enc(json.dumps(claims).encode())
    sig = hmac.new(f"another-instance-{n}".encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{enc(sig)}"


def lsauth_binary():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "lsauth")


def timed(cmd, stdin=None, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def call(url, path, method="GET", token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return json.loads(text) if text else None


def mint_pat(url, token):
    """The legacy token's user's PAT, minted for the benchmark (an earlier one revoked)."""
    try:
        return call(url, "/api/token/", "POST", token)["token"]
    except urllib.error.HTTPError as e:
        if e.code != 409:
            sys.exit(f"bench-roundtrips: minting a PAT answered {e.code}")
    for listed in call(url, "/api/token/", token=token):
        call(url, "/api/token/blacklist/", "POST", body={"refresh": listed["token"]})
    return call(url, "/api/token/", "POST", token)["token"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--token", required=True, help="a legacy token (its organization gets legacy tokens on)")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--pat")
    p.add_argument("--delay", type=float, default=0.1)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()

    exe = lsauth_binary()
    work = tempfile.mkdtemp(prefix="lsauth-bench-rt-")
    env = dict(os.environ, LSAUTH_BACKUP_DIR=os.path.join(work, "backups"), HOME=work)
    subprocess.run([exe, "--db", args.db, "enable-legacy", "--all", "--yes"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    pat = args.pat or mint_pat(args.url, args.token)
    proxy = DelayingProxy(args.url)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()

    def env_file(name, key):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(f"LABEL_STUDIO_URL={proxy.url}\nLABEL_STUDIO_API_KEY={key}\n")
        return path

    legacy_env, pat_env = env_file("legacy.env", args.token), env_file("pat.env", pat)
    tokens = os.path.join(work, "tokens.txt")
    # 50 distinct tokens, as a fleet's .env files hold them: this instance's legacy key and
    # PAT, 24 unknown legacy keys, 24 PATs of other instances.
    fleet = [args.token, pat] + [hashlib.sha1(str(n).encode()).hexdigest() for n in range(24)]
    fleet += [foreign_pat(n) for n in range(24)]
    with open(tokens, "w") as f:
        f.write("\n".join(fleet) + "\n")
    # A project of the legacy token's user: doctor --project follows it to its creator's key.
    project = str(call(args.url, "/api/projects/", "POST", args.token, {"title": "bench-roundtrips"})["id"])
    cases = [
        # name, argv, stdin, dependent chain (round trips)
        ("token test, legacy key", ["token", "test", "--env-file", legacy_env], None, 2),
        ("token test, PAT", ["token", "test", "--env-file", pat_env], None, 3),
        ("doctor --env-file --project, legacy key",
         ["--db", args.db, "doctor", "--env-file", legacy_env, "--project", project], None, 2),
        ("doctor --env-file --project, PAT",
         ["--db", args.db, "doctor", "--env-file", pat_env, "--project", project], None, 3),
        ("doctor --env-file, PAT, no database (api.jwt_settings)",
         ["doctor", "--env-file", pat_env], None, 4),
        ("migrate-env --dry-run, legacy key", ["migrate-env", "--env-file", legacy_env, "--dry-run"], None, 2),
        ("enable-legacy --via-api --dry-run --login",
         ["enable-legacy", "--via-api", "--dry-run", "--url", proxy.url, "--login", args.email, "--password-stdin"],
         (args.password + "\n").encode(), 4),
        # The floor with 8 at a time: the version, then 50 tokens' chains (1 round trip for a
        # legacy key or a refused PAT, 2 for the working PAT) 8 by 8: 1 + ceil(51 / 8).
        ("token test --all-from, 50 tokens (8 at a time)",
         ["token", "test", "--all-from", tokens, "--url", proxy.url], None, 1 + 7),
    ]
    print(f"delay D = {args.delay * 1000:.0f} ms per request, median of {args.runs} runs")
    print("| command | requests | time at 0 | time at D | sequential round trips | dependent chain |")
    print("|---|---|---|---|---|---|")
    for name, argv, stdin, chain in cases:
        cmd = [exe] + argv
        proxy.delay = 0.0
        with proxy.lock:
            proxy.requests.clear()
        fast = statistics.median(timed(cmd, stdin, env) for _ in range(args.runs))
        sent = len(proxy.requests) // args.runs
        proxy.delay = args.delay
        slow = statistics.median(timed(cmd, stdin, env) for _ in range(args.runs))
        trips = (slow - fast) / args.delay
        print(f"| `{name}` | {sent} | {fast:.2f} s | {slow:.2f} s | {trips:.1f} | {chain} |")
    proxy.shutdown()


if __name__ == "__main__":
    main()
