"""Open a page in headless Chromium through the DevTools protocol: console errors and images that failed."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Loads every lazy image, waits for all of them, and lists the ones that did not decode.
CHECK_IMAGES = """(async () => {
  const images = [...document.images];
  images.forEach(i => { i.loading = 'eager'; });
  await Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return JSON.stringify({count: images.length,
                         broken: images.filter(i => !i.naturalWidth).map(i => i.getAttribute('src'))});
})()"""


def inspect_page(url: str, screenshot: Path | None = None, timeout: float = 60) -> dict:
    """{"errors": console errors and failed loads, "images": count, "broken": image srcs that failed}."""
    import websocket

    profile = tempfile.mkdtemp(prefix="spnrefine-chromium-")
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                "--window-size=1300,2400", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        import urllib.request

        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout)
        counter, events = iter(range(1, 10_000)), []

        def call(method, **params):
            number = next(counter)
            socket.send(json.dumps({"id": number, "method": method, "params": params}))
            while True:
                message = json.loads(socket.recv())
                if message.get("id") == number:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    return message.get("result", {})
                events.append(message)

        for domain in ("Page", "Runtime", "Log", "Network"):
            call(f"{domain}.enable")
        call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(socket.recv()))
        result = json.loads(call("Runtime.evaluate", expression=CHECK_IMAGES, awaitPromise=True)["result"]["value"])
        if screenshot is not None:
            import base64

            screenshot.write_bytes(base64.b64decode(call("Page.captureScreenshot", format="png")["data"]))
        errors = []
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append(str(params.get("args")))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                errors.append(f"failed to load: {params.get('errorText')}")
        socket.close()
        return {"errors": errors, **result}
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)
