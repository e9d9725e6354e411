"""Helpers shared by the tests: random propagation inputs, the reference check, the real data in ../shared,
headless Chromium."""

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import torch

from spnrefine.propagation import normalize_gates

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def random_inputs(shape, directions=4, dtype=torch.float64, seed=0, mode="signed"):
    """x: (N, C, H, W) in [0, 1); gates: (N, D, 3, C, H, W), inside the stability bound."""
    generator = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    x = torch.rand(shape, generator=generator, dtype=torch.float64)
    raw = 2 * torch.randn((n, directions, 3, c, h, w), generator=generator, dtype=torch.float64)
    # A random scale per pixel and direction: with |g1|+|g2|+|g3| = 1 exactly and gates
    # of one sign, border pixels tie across directions and rounding alone would pick the
    # max-merge winner (whose gradient then differs from the reference's even split).
    scale = 0.5 + 0.45 * torch.rand((n, directions, 1, c, h, w), generator=generator, dtype=torch.float64)
    return x.to(dtype), (scale * normalize_gates(raw, mode=mode, dim=2)).to(dtype)


TOLERANCES = {torch.float64: dict(atol=1e-10, rtol=1e-10), torch.float32: dict(atol=1e-5, rtol=1e-5)}


def assert_matches_reference(run, x, gates, directions, merge="max", seed=0):
    """``run(x, gates)`` must give the reference's output and gradients (weighted-sum loss)."""
    from spnrefine.propagation.api import _run

    def output_and_grads(fn):
        xi, gi = x.clone().requires_grad_(), gates.clone().requires_grad_()
        out = fn(xi, gi)
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
        (out * weights).sum().backward()
        return out.detach(), xi.grad, gi.grad

    expected = output_and_grads(lambda a, g: _run(a, g, directions, merge, "torch"))
    actual = output_and_grads(run)
    for name, got, want in zip(("output", "grad x", "grad gates"), actual, expected):
        torch.testing.assert_close(got, want, **TOLERANCES[x.dtype], msg=lambda m, name=name: f"{name}: {m}")


ESPNET_WEIGHTS = SHARED / "weights" / "espnet_camvid.pth"
CAMVID = SHARED / "data" / "camvid"
needs_shared = pytest.mark.skipif(
    not (ESPNET_WEIGHTS.is_file() and (CAMVID / "val.txt").is_file()),
    reason=f"real data not found at {SHARED} (../shared from the project root)",
)


def camvid_names(split: str, count: int | None = None) -> list[str]:
    names = (CAMVID / f"{split}.txt").read_text().split()
    return names[:count] if count else names


# Headless Chromium through the DevTools protocol: console errors and images that failed to load.
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
