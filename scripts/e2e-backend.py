"""A task-data download as an ML backend makes it, for scripts/e2e.sh.

Usage: python e2e-backend.py current|before-fix ENV_FILE TASK_URL
Prints the HTTP status the download got (200 when the file came back).

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


def main():
    generation, env_file, task_url = sys.argv[1:4]
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
                       cache_dir=tempfile.mkdtemp(), task_id=1)
        print(200)
    except requests.HTTPError as e:
        print(e.response.status_code)
    except Exception as e:  # a download the SDK refused before sending: say what
        print(f"error: {type(e).__name__}: {e}")


main()
