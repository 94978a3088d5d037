"""A label-studio-ml 1.0.9 backend (the v1 API, from PyPI) for the e2e suite.

Usage: e2e-backend-v1.py PORT RECORD

Its model downloads each task's image through the package's own get_local_path, as the
v1 template does: with the hostname and key Label Studio sent to /setup, never the .env's.
Each download appends one line to RECORD: the HTTP status it got and the Authorization
scheme it sent ("200 Token", "401 Token", "401 none").
"""

import os
import shutil
import sys

import requests
from label_studio_ml.api import init_app
from label_studio_ml.model import LabelStudioMLBase
from label_studio_tools.core.utils.io import get_cache_dir

PORT, RECORD = int(sys.argv[1]), sys.argv[2]
sent = []
_get = requests.get


def recording_get(url, *args, **kwargs):
    auth = (kwargs.get("headers") or {}).get("Authorization", "none")
    sent.append(auth.split(" ")[0])
    return _get(url, *args, **kwargs)


requests.get = recording_get


class Model(LabelStudioMLBase):
    def predict(self, tasks, **kwargs):
        results = []
        for task in tasks:
            # A file downloaded once is read from the cache the next time, without a
            # request: empty it so that every prediction asks Label Studio again.
            cache = get_cache_dir()
            shutil.rmtree(cache, ignore_errors=True)
            os.makedirs(cache, exist_ok=True)
            sent.clear()
            try:
                self.get_local_path(task["data"]["image"])
                status = "200"
            except requests.HTTPError as e:
                status = str(e.response.status_code)
            with open(RECORD, "a") as f:
                f.write(f"{status} {sent[-1] if sent else 'nothing-sent'}\n")
            results.append({"result": [], "score": 0.0})
        return results


if __name__ == "__main__":
    init_app(Model).run(host="127.0.0.1", port=PORT)
