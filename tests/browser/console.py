"""The operators' console in headless Chromium, driven by Playwright.

Run by tests/api/console.rs against a server it populated (the environment names
the server, the operator's credentials and what to look for). Signs in with the
keyboard, checks the overview's figures against the API's, searches a user, holds
and releases an org, replays a dead letter, checks that no token is stored and that
no Content-Security-Policy violation happens, and saves a screenshot of each step
into $ARTIFACTS. Exits non-zero with a message on the first failed check.
"""

import json
import os
import sys
import time
import urllib.request

from playwright.sync_api import expect, sync_playwright

BASE = os.environ["SKIFF_URL"]
EMAIL = os.environ["OPERATOR_EMAIL"]
PASSWORD = os.environ["OPERATOR_PASSWORD"]
SEARCH_EMAIL = os.environ["SEARCH_EMAIL"]
ORG_NAME = os.environ["ORG_NAME"]
CHROMIUM = os.environ["CHROMIUM"]
ARTIFACTS = os.environ["ARTIFACTS"]

# What this machine's closed network needs (no background fetches), as root (no sandbox).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def api(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


def money(minor, currency):
    assert currency == "usd", currency
    return "${:,.2f}".format(minor / 100)


def shot(page, name):
    page.screenshot(path=os.path.join(ARTIFACTS, name + ".png"), full_page=True)


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    token = api("POST", "/api/v1/auth/login", body={"email": EMAIL, "password": PASSWORD})["access_token"]
    figures = api("GET", "/api/v1/admin/analytics", token)

    violations = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(BASE + "/console/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shot(page, "01-sign-in")

        # Sign in with the keyboard only: every control has a label and is reachable.
        page.get_by_label("E-mail").focus()
        page.keyboard.type(EMAIL)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()

        # The figures are the API's.
        def card(figure):
            return page.locator(f'[data-figure="{figure}"] dd')

        expect(card("mrr")).to_have_text(money(figures["mrr"], figures["currency"]))
        expect(card("arr")).to_have_text(money(figures["arr"], figures["currency"]))
        expect(card("active")).to_have_text(str(figures["active_subscriptions"]))
        expect(card("trialing")).to_have_text(str(figures["trialing"]))
        expect(card("signups")).to_have_text(str(figures["new_signups_this_month"]))
        expect(card("seats")).to_have_text(f'{figures["seats_in_use"]} / {figures["seats_total"]}')
        expect(card("churn")).to_have_text("{:.1f} %".format(figures["churn_rate_30d"] * 100))
        as_of = time.strftime("%Y-%m-%d %H:%M", time.gmtime(figures["as_of"]))
        expect(page.locator(".as-of")).to_have_text(f"Figures as of {as_of} UTC")
        # Four 90-day line charts, drawn (uPlot renders each on a canvas).
        for metric in ["mrr", "signups", "seats_in_use", "active_subscriptions"]:
            expect(page.locator(f'[data-chart="{metric}"] canvas')).to_have_count(1)
        shot(page, "02-overview")

        # No token anywhere but in the page's memory.
        stored = page.evaluate("JSON.stringify([localStorage.length, sessionStorage.length, document.cookie])")
        if stored != '[0,0,""]':
            fail(f"something was stored: {stored}")

        # Users: search narrows the table.
        page.get_by_role("link", name="Users").click()
        expect(page.get_by_role("heading", name="Users")).to_be_visible()
        page.get_by_label("Search e-mail, name, company").fill(SEARCH_EMAIL)
        page.get_by_role("button", name="Search").click()
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(SEARCH_EMAIL)
        shot(page, "03-users-search")

        # Orgs: find the org, open its page, hold it, release it.
        page.get_by_role("link", name="Organizations").click()
        page.get_by_label("Search name").fill(ORG_NAME)
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name=ORG_NAME).click()
        expect(page.get_by_role("heading", name=ORG_NAME)).to_be_visible()
        expect(page.get_by_role("meter").first).to_be_visible()
        shot(page, "04-org")
        page.get_by_label("Note (why, for operators)").fill("browser test")
        page.get_by_role("button", name="Put on hold").click()
        expect(page.get_by_role("button", name="Release hold")).to_be_visible()
        expect(page.get_by_text("On hold since")).to_be_visible()
        shot(page, "05-org-held")
        page.get_by_role("button", name="Release hold").click()
        expect(page.get_by_role("button", name="Put on hold")).to_be_visible()

        # Dead letters: replay the one there is.
        page.get_by_role("link", name="Dead letters").click()
        expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("no_such_kind")
        shot(page, "06-dead-letters")
        rows.first.get_by_role("button", name="Replay").first.click()
        expect(page.get_by_role("status")).to_have_text("Replay done")

        # Audit: the operator's actions are there.
        page.get_by_role("link", name="Audit log").click()
        page.get_by_label("Action").fill("ORG_HELD")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("table tbody tr").first).to_contain_text("operator:")
        shot(page, "07-audit")

        # A phone-sized screen: nothing overflows the page sideways.
        page.set_viewport_size({"width": 375, "height": 800})
        page.get_by_role("link", name="Overview").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            fail(f"the overview overflows a 375 px screen by {overflow} px")
        shot(page, "08-overview-phone")
        browser.close()
    if violations:
        fail("Content-Security-Policy violations: " + "; ".join(violations))
    print("console: every check passed; screenshots in " + ARTIFACTS)


def fail(message):
    print("FAILED: " + message, file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        fail(str(e))
