#!/usr/bin/env python3
"""Drive the agent's page and a report in headless Chromium (Playwright,
with the system's Chromium; nothing is downloaded) and check what a person
would see: the overview with the firing alert, the drill-down with the
distribution and the history charts, a screenshot that is not blank (light
and dark), no console error and no request outside the agent; then the
report file, opened with the network off.

Used by tests/agent/pages.rs. Prints one `NAME: ok` line per step; exits 1
with the reason on the first failure.

Usage: browser.py --chromium PATH --agent http://127.0.0.1:PORT --report FILE --shots DIR
"""

import argparse
import io
import os
import sys
from urllib.parse import urlparse

from PIL import Image
from playwright.sync_api import sync_playwright

BLUE, ORANGE = (0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def check(cond, message):
    if not cond:
        fail(message)


def inspect(png, name, shots):
    """The screenshot's size, how much of it is not background, its colours."""
    with open(os.path.join(shots, name), "wb") as f:
        f.write(png)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    colours = img.getcolors(maxcolors=1 << 24)
    background = img.getpixel((2, h - 2))
    drawn = sum(n for n, c in colours if c != background) / (w * h)
    return w, h, drawn, {c for _, c in colours}, background


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--shots", required=True)
    args = ap.parse_args()
    agent = urlparse(args.agent)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors, outside = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def watch(request):
            u = urlparse(request.url)
            if u.scheme not in ("data", "about") and (u.scheme, u.netloc) != (agent.scheme, agent.netloc):
                outside.append(request.url)

        page.on("request", watch)

        response = page.goto(args.agent.rstrip("/") + "/")
        check(response is not None and response.status == 200, f"/ answered {response and response.status}")
        check(page.locator("span.badge.firing").count() >= 1, "no firing alert on the overview")
        print("overview: ok")

        page.locator("table.alerts a", has_text="Drift").first.click()
        page.wait_for_load_state("load")
        check("/rules/Drift" in page.url, f"the alert links to {page.url}")
        check(page.locator("svg.chart.histogram rect.baseline").count() >= 2, "no baseline bars")
        check(page.locator("svg.chart.histogram rect.current").count() >= 2, "no current bars")
        check(page.locator("svg.chart.timeline polyline.series, svg.chart.timeline circle").count() >= 1, "no history line")
        check(page.locator("svg.chart.timeline line.threshold").count() >= 1, "no threshold line")
        check(page.locator("svg.chart.timeline rect.firing").count() >= 1, "no firing period")
        print("drill-down: ok")

        w, h, drawn, colours, _ = inspect(page.screenshot(full_page=True), "drill-down.png", args.shots)
        check(w == 1280 and h >= 900, f"screenshot is {w}x{h}")
        check(drawn > 0.03, f"only {drawn:.1%} of the screenshot is drawn")
        check(BLUE in colours and ORANGE in colours, "the baseline and current colours are not on screen")
        page.emulate_media(color_scheme="dark")
        _, _, drawn, _, background = inspect(page.screenshot(full_page=True), "drill-down-dark.png", args.shots)
        check(sum(background) < 3 * 80, f"dark mode background is {background}")
        check(drawn > 0.03, f"only {drawn:.1%} of the dark screenshot is drawn")
        print("screenshot: ok")

        check(not errors, f"console errors: {errors}")
        check(not outside, f"requests outside the agent: {outside}")

        # The report: opened from disk with the network off; nothing but the file is requested.
        offline = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        report = offline.new_page()
        requests, report_errors = [], []
        report.on("request", lambda r: requests.append(r.url))
        report.on("console", lambda m: report_errors.append(m.text) if m.type == "error" else None)
        report.goto("file://" + os.path.abspath(args.report))
        check(report.locator("svg.chart.histogram").count() >= 1, "no histogram in the report")
        check(report.locator("svg.chart.timeline").count() >= 1, "no history chart in the report")
        others = [u for u in requests if not u.startswith("file://") and not u.startswith("data:")]
        check(not others, f"the report requested {others}")
        check(not report_errors, f"report console errors: {report_errors}")
        _, _, drawn, _, _ = inspect(report.screenshot(full_page=True), "report.png", args.shots)
        check(drawn > 0.03, f"only {drawn:.1%} of the report is drawn")
        print("report: ok")
        browser.close()


if __name__ == "__main__":
    main()
