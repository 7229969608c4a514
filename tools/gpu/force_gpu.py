"""pytest plugin for the GPU check: every session a test creates with device "auto" is created with
device "gpu" (the GPU or DeviceError, never a silent CPU fallback); the providers used are recorded."""

import atexit
import collections
import dataclasses
import json
import os

import models.session as session

_original = session.create_session
used = collections.Counter()


def create_session(model, options=None):
    options = options or session.SessionOptions()
    if options.device == "auto":
        options = dataclasses.replace(options, device="gpu")
    created = _original(model, options)
    used[created.get_providers()[0]] += 1
    return created


session.create_session = create_session


@atexit.register
def _write():
    with open(os.path.join(os.environ.get("OUT", "."), "forced_gpu_sessions.json"), "w") as f:
        json.dump(dict(used), f)
