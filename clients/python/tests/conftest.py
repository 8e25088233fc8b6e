"""A real `skiff serve` child on a loopback port (SKIFF_BIN), with the starter
plan cut to one seat, and the journey to a verified owner with a paid license."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Correct1horse"


class Server:
    def __init__(self, tmp: Path) -> None:
        binary = os.environ.get("SKIFF_BIN")
        if not binary or not Path(binary).exists():
            raise RuntimeError(f"SKIFF_BIN must name a built skiff binary, got {binary!r}")
        self.binary = binary
        self.data = tmp / "data"
        self.plans = tmp / "plans.json"
        catalog = json.loads((ROOT / "domains/billing/plans.json").read_text())
        for plan in catalog["plans"]:
            if plan["id"] == "starter":
                plan["entitlements"]["max_seats"] = 1
        self.plans.write_text(json.dumps(catalog))
        self.proc = None
        # A free loopback port, fixed so a restart comes back at the same address.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.start()

    def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SKIFF_LOG": "warn",
            "SKIFF_PLANS_FILE": str(self.plans),
            "SKIFF_LICENSE_ACQUIRE_PER_MIN": "1000",
            "SKIFF_LICENSE_HEARTBEAT_PER_MIN": "1000",
            "SKIFF_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
        }
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--addr", f"127.0.0.1:{self.port}", "--data-dir", str(self.data)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        found: dict = {}
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                if "skiff is running at " in line and not ready.is_set():
                    found["up"] = True
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or "up" not in found:
            raise RuntimeError("skiff did not start")
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.stop()


def call(base, method, path, token=None, body=None, expect=(200,)):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = httpx.request(method, base + path, headers=headers, json=body, timeout=30)
    assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content and r.headers.get("content-type", "").startswith("application/") else None


def owner_with_license(base: str, email: str):
    """(org id, access token, license) of a verified owner who paid on the simulator."""
    reg = call(base, "POST", "/api/v1/auth/register", body={
        "email": email, "password": PASSWORD, "full_name": "Ada Lovelace", "company_name": f"Org of {email}",
    }, expect=(201,))
    link = None
    for _ in range(100):
        for mail in call(base, "GET", f"/_dev/mailbox?to={email}")["emails"]:
            m = re.search(r"/api/v1/auth/verify-email\?token=[^\s\"<>]+", mail.get("text", ""))
            if m:
                link = m.group(0)
        if link:
            break
        time.sleep(0.1)
    assert link, "no verification e-mail"
    call(base, "GET", link)
    token = call(base, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})["access_token"]
    started = call(base, "POST", "/api/v1/billing/checkout", token, {
        "plan_id": "starter", "success_url": f"{base}/done", "cancel_url": f"{base}/cancel",
    })
    r = httpx.post(f"{base}/api/v1/billing/simulator/checkout/{started['session_id']}/pay", timeout=30)
    assert r.status_code == 303, r.text
    license = call(base, "GET", "/api/v1/licenses", token)["licenses"][0]
    assert license["max_seats"] == 1
    return reg["org_id"], token, license
