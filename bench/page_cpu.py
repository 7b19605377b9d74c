"""The page's CPU per delta while a 2,000-token reply streams, formatted live or as plain text.

Run it as `python -m bench.page_cpu`. Debian's Chromium (through Playwright) loads a harness
page (bench/page/) that uses the chat page's own modules and styles, and streams 2,000 tokens
of markdown (the demo model's kind of reply: headings, lists, tables, code) into a reply, one
token per delta, DELTA_MS apart. Chromium's own counters (DevTools Performance.getMetrics)
give the main thread's busy time: TaskDuration (script, style, layout, paint) and
ScriptDuration, divided by the number of deltas. `plain` appends text nodes, as the page did
before it formatted replies live; `live` is the LiveView.
"""

from __future__ import annotations

import argparse
import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import CDPSession, sync_playwright

from chat.providers.demo import tokenize
from chat.render import page_rules

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
DELTA_MS = 5  # a fast model: 200 tokens a second


def reply_tokens(count: int) -> list[str]:
    section = (
        "## Section {n}\n\nA paragraph with **bold**, *emphasis*, `code` and a link to "
        "https://example.com/page{n}. It goes on for a while, as model replies do, with "
        "words and more words to fill a line or two of the page.\n\n"
        "- a first point about {n}\n- a second point\n- a third, longer point that wraps\n\n"
        "| key | value |\n| --- | ---: |\n| alpha | {n} |\n| beta | 2 |\n\n"
        "```python\ndef section_{n}(x: int) -> int:\n    return x * {n}  # doubled\n```\n\n"
        "1. step one\n2. step two\n3. step three\n\n"
    )
    tokens: list[str] = []
    n = 1
    while len(tokens) < count:
        tokens += tokenize(section.format(n=n))
        n += 1
    return tokens[:count]


class Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/bench/page/index.html":
            html = (ROOT / "bench/page/index.html").read_text()
            rules = json.dumps(page_rules([])).replace("<", "\\u003c")
            data = html.replace("RULES", rules).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()


def measure(tokens: list[str], mode: str, repeat: int) -> dict[str, float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench/page/index.html"
    task_ms: list[float] = []
    script_ms: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            page.wait_for_function("typeof window.benchRun === 'function'")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def metrics(cdp: CDPSession = cdp) -> dict[str, float]:
                got = cdp.send("Performance.getMetrics")["metrics"]
                return {m["name"]: m["value"] for m in got}

            before = metrics()
            page.evaluate("([t, m, d]) => window.benchRun(t, m, d)", [tokens, mode, DELTA_MS])
            after = metrics()
            task_ms.append((after["TaskDuration"] - before["TaskDuration"]) * 1000)
            script_ms.append((after["ScriptDuration"] - before["ScriptDuration"]) * 1000)
            page.close()
        browser.close()
    server.shutdown()
    per = len(tokens)
    return {
        "task_ms_per_delta": min(task_ms) / per,
        "script_ms_per_delta": min(script_ms) / per,
        "task_ms_total": min(task_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the best counts")
    args = parser.parse_args()
    tokens = reply_tokens(args.tokens)
    print(f"{len(tokens)} tokens, {sum(map(len, tokens))} characters, a delta every {DELTA_MS} ms")
    for mode in ("plain", "live"):
        r = measure(tokens, mode, args.repeat)
        print(
            f"{mode:5}  main thread {r['task_ms_per_delta']:.3f} ms/delta "
            f"(script {r['script_ms_per_delta']:.3f}), {r['task_ms_total']:.0f} ms in all"
        )


if __name__ == "__main__":
    main()
