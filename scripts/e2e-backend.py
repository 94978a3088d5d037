"""An ML backend's task-data downloads, for scripts/e2e.sh.

Usage: python e2e-backend.py serve GENERATION_FILE ENV_FILE PORT RECORD

An ML backend Label Studio connects to (/health, /setup, /predict, /webhook): for each
task Label Studio asks a prediction for, it downloads the task's image as the generation
named in GENERATION_FILE (current, before-fix) does, with the key of ENV_FILE (both read
at each request, as a restarted backend would), and appends "TASK STATUS" to RECORD (200
when the file came back).

Run with the Python of Label Studio 1.23.2's venv, which has label-studio-sdk 2.1.2. The
key is resolved exactly as the ML backends measured in AUTH-FACTS ("ML backends, measured"):
- current (label-studio-ml-backend from 2026-02-12, commit ec60414): get_local_path calls
  get_label_studio_access_token(), which builds LabelStudio(base_url=LABEL_STUDIO_URL or
  LABEL_STUDIO_HOST or HOSTNAME) with the key of LABEL_STUDIO_API_KEY only and takes its
  access token (a PAT refreshed, a legacy key as it is); when no client can be built it
  falls back to the raw LABEL_STUDIO_API_KEY or LABEL_STUDIO_ACCESS_TOKEN.
- before-fix (the parent commit, 872b457): the SDK's get_local_path with the key as it is.
The download itself is the SDK's get_local_path, with its own header rule (the key only to
a URL on LABEL_STUDIO_URL's netloc). The caller gives this process empty XDG_DATA_HOME and
XDG_CACHE_HOME, or the SDK reads the file from disk and never downloads.
"""

import os
import sys
import tempfile

import requests
from label_studio_sdk.client import LabelStudio
from label_studio_sdk._extensions.label_studio_tools.core.utils.io import get_local_path


def read_env(path):
    values = {}
    for line in open(path).read().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.removeprefix("export ").strip()] = value.strip().strip('"').strip("'")
    return values


def current_backend_key(env):
    hostname = env.get("LABEL_STUDIO_URL") or env.get("LABEL_STUDIO_HOST") or env.get("HOSTNAME")
    key = env.get("LABEL_STUDIO_API_KEY")
    try:
        if not (hostname and key):
            raise ValueError("no client without a URL and LABEL_STUDIO_API_KEY")
        client = LabelStudio(base_url=hostname, api_key=key)
        return client._client_wrapper._tokens_client.api_key
    except Exception:
        return env.get("LABEL_STUDIO_API_KEY") or env.get("LABEL_STUDIO_ACCESS_TOKEN")


def download(generation, env_file, task_url, task_id=1):
    """The status of one download of task_url, as `generation` resolves its key."""
    env = read_env(env_file)
    hostname = env.get("LABEL_STUDIO_URL") or env.get("LABEL_STUDIO_HOST")
    if generation == "current":
        key = current_backend_key(env)
    else:
        key = env.get("LABEL_STUDIO_API_KEY") or env.get("LABEL_STUDIO_ACCESS_TOKEN")
    os.environ.pop("LABEL_STUDIO_API_KEY", None)
    os.environ.pop("LABEL_STUDIO_URL", None)
    try:
        get_local_path(task_url, hostname=hostname, access_token=key, download_resources=True,
                       cache_dir=tempfile.mkdtemp(), task_id=task_id)
        return "200"
    except requests.HTTPError as e:
        return str(e.response.status_code)
    except Exception as e:  # a download the SDK refused before sending: say what
        return f"error: {type(e).__name__}: {e}"


def serve(generation_file, env_file, port, record):
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Backend(BaseHTTPRequestHandler):
        def answer(self, doc):
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer({"status": "UP", "model_class": "E2EBackend"})

        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path.rstrip("/").endswith("predict"):
                generation = open(generation_file).read().strip()
                results = []
                for task in request.get("tasks", []):
                    status = download(generation, env_file, task["data"]["image"], task.get("id", 1))
                    with open(record, "a") as f:
                        f.write(f"{task.get('id')} {status}\n")
                    results.append({"result": [], "score": 0.0, "model_version": "e2e"})
                self.answer({"results": results, "model_version": "e2e"})
            else:  # /setup, /webhook
                self.answer({"model_version": "e2e"})

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(port)), Backend).serve_forever()


if __name__ == "__main__":
    serve(*sys.argv[2:6])
