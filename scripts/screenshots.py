"""Take the README's screenshots of the chat page: light, dark, phone and Chinese.

Run it as `.venv/bin/python scripts/screenshots.py [--out docs/screenshots]`. It starts the
site in daphne on a temporary SQLite database with the offline demo model, signs a user in,
holds one conversation through the page itself, and saves small PNGs (made smaller still by
pngquant where it is installed). Chinese needs a CJK font (Debian: `apt-get install
fonts-noto-cjk`; emoji: `fonts-noto-color-emoji`); without one it says so and stops.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]
MESSAGE = "Show me a small Python function, please"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def has_cjk_font() -> bool:
    fc = shutil.which("fc-list")
    if not fc:
        return False
    out = subprocess.run([fc, ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return bool(out.strip())


def start_site(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    process = subprocess.Popen(
        [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("daphne did not start")


def session_for(env: dict[str, str], username: str) -> str:
    code = (
        "import django; django.setup()\n"
        "from django.contrib.auth.models import User\n"
        "from importlib import import_module\n"
        "from django.conf import settings\n"
        f"user, _ = User.objects.get_or_create(username={username!r})\n"
        "s = import_module(settings.SESSION_ENGINE).SessionStore()\n"
        "s['_auth_user_id'] = str(user.pk)\n"
        "s['_auth_user_backend'] = 'django.contrib.auth.backends.ModelBackend'\n"
        "s['_auth_user_hash'] = user.get_session_auth_hash()\n"
        "s.create(); print(s.session_key)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def shrink(path: Path) -> None:
    """Fewer colours, the same look: pngquant, if it is installed."""
    pngquant = shutil.which("pngquant")
    if pngquant:
        subprocess.run(
            [
                pngquant,
                "--force",
                "--skip-if-larger",
                "--quality=70-95",
                "--ext",
                ".png",
                str(path),
            ],
            check=False,
        )


def shoot(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="chat-screens-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "SQLITE_PATH": str(tmp / "db.sqlite3"),
        "CHAT_DEMO_TOKEN_DELAY": "0.002",
        "CHAT_LOG_LEVEL": "WARNING",
    }
    site = start_site(env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            shots = [
                ("light", "ada", "en", "light", {"width": 1100, "height": 720}, False),
                ("dark", "ada", "en", "dark", {"width": 1100, "height": 720}, False),
                ("phone", "ada", "en", "light", {"width": 390, "height": 760}, True),
                ("chinese", "li", "zh-hans", "light", {"width": 1100, "height": 720}, False),
            ]
            sessions: dict[str, str] = {}
            conversations: dict[str, str] = {}  # by user: the conversation's address
            for name, user, language, scheme, viewport, phone in shots:
                if user not in sessions:
                    sessions[user] = session_for(env, user)
                context = browser.new_context(
                    viewport=viewport,
                    color_scheme=scheme,  # type: ignore[arg-type]
                    locale=language,
                    extra_http_headers={"Accept-Language": language},
                    is_mobile=phone,
                    has_touch=phone,
                    device_scale_factor=1,
                )
                context.add_cookies([{"name": "sessionid", "value": sessions[user], "url": url}])
                page = context.new_page()
                if user in conversations:
                    page.goto(conversations[user])
                else:
                    page.goto(url + "/")
                    text = MESSAGE if language == "en" else "请写一个简短的 Python 函数"
                    page.fill("#composer-input", text)
                    page.click("#send-button")
                    page.wait_for_url("**/c/*/")
                    conversations[user] = page.url
                    page.locator(".from-assistant[data-status=complete]").wait_for(timeout=30_000)
                    page.goto(conversations[user])  # as a returning user sees it
                page.locator(".from-assistant[data-status=complete]").wait_for(timeout=30_000)
                page.mouse.move(0, 0)
                page.wait_for_timeout(300)
                path = out / f"{name}.png"
                page.screenshot(path=str(path))
                context.close()
                shrink(path)
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
            browser.close()
    finally:
        site.terminate()
        site.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if not has_cjk_font():
        raise SystemExit("No CJK font: install one first (Debian: apt-get install fonts-noto-cjk).")
    args.out.mkdir(parents=True, exist_ok=True)
    shoot(args.out.resolve())


if __name__ == "__main__":
    main()
