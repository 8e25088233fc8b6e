"""Make the caller schemathesis authenticates as: a verified owner whose org has
paid for a plan on the payment simulator. Prints the access token.

Usage: schemathesis_owner.py BASE_URL
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/")
EMAIL = "fuzz-owner@example.com"
PASSWORD = "Correct1horse"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, path, body=None, token=None, expect=(200,)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with OPENER.open(req, timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        sys.exit(f"{method} {path}: {status} {text}")
    return json.loads(text) if text.strip().startswith("{") else None


def wait_for_link(pattern):
    for _ in range(100):
        box = call("GET", "/_dev/mailbox?" + urllib.parse.urlencode({"to": EMAIL}))
        for mail in box.get("emails", []):
            m = re.search(pattern, mail.get("text", ""))
            if m:
                return m.group(0)
        time.sleep(0.1)
    sys.exit(f"no e-mail matching {pattern} within 10 s")


call("POST", "/api/v1/auth/register", {
    "email": EMAIL, "password": PASSWORD,
    "full_name": "Fuzz Owner", "company_name": "Fuzz Co",
}, expect=(201,))
link = wait_for_link(r"http\S*/api/v1/auth/verify-email\?token=[^\s\"<>]+")
call("GET", urllib.parse.urlsplit(link)._replace(scheme="", netloc="").geturl())
token = call("POST", "/api/v1/auth/login",
             {"email": EMAIL, "password": PASSWORD})["access_token"]
started = call("POST", "/api/v1/billing/checkout", {
    "plan_id": "starter", "success_url": BASE + "/done", "cancel_url": BASE + "/cancel",
}, token=token)
call("POST", f"/api/v1/billing/simulator/checkout/{started['session_id']}/pay", expect=(303,))
licenses = call("GET", "/api/v1/licenses", token=token)["licenses"]
if len(licenses) != 1:
    sys.exit(f"expected one license after paying, got {licenses}")
print(token)
