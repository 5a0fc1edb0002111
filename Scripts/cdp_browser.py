"""Headless Chromium over the DevTools protocol (--remote-debugging-pipe: CDP messages are
NUL-terminated JSON written to the browser's fd 3 and read from its fd 4; no extra packages).
Used by Scripts/browser-test.sh and Scripts/review-browser-test.sh."""
import base64, json, os, subprocess, threading, time


class Browser:
    def __init__(self, binary, log, size="1400,1000"):
        to_read, self.to_write = os.pipe(); self.from_read, from_write = os.pipe()
        def pipes(): os.dup2(to_read, 3); os.dup2(from_write, 4)
        self.process = subprocess.Popen([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", f"--window-size={size}", "--remote-debugging-pipe", "--enable-logging=stderr", "--v=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False, preexec_fn=pipes)
        os.close(to_read); os.close(from_write)
        self.last_id = 0; self.replies = {}; self.events = []; self.closed = False; self.session = None
        self.condition = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        pending = b""
        while chunk := os.read(self.from_read, 65536):
            pending += chunk
            while b"\0" in pending:
                raw, pending = pending.split(b"\0", 1); message = json.loads(raw)
                with self.condition:
                    if "id" in message: self.replies[message["id"]] = message
                    else: self.events.append(message)
                    self.condition.notify_all()
        with self.condition: self.closed = True; self.condition.notify_all()

    def call(self, method, params=None, session=True, timeout=30):
        with self.condition: self.last_id += 1; number = self.last_id
        message = {"id": number, "method": method, "params": params or {}}
        if session and self.session: message["sessionId"] = self.session
        os.write(self.to_write, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        with self.condition:
            while number not in self.replies:
                if self.closed or time.time() > deadline: raise RuntimeError(f"no answer to {method}")
                self.condition.wait(max(0.01, deadline - time.time()))
            reply = self.replies.pop(number)
        if "error" in reply: raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, url):
        """A new tab (target) on url; later calls go to it."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for method in ["Runtime.enable", "Log.enable", "Page.enable"]: self.call(method)
        self.call("Page.navigate", {"url": url})
        return target

    def evaluate(self, expression, timeout=30):
        """The expression's value; a promise is awaited."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in result: raise RuntimeError(f"evaluate: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.evaluate(expression): return True
            except RuntimeError: pass
            time.sleep(0.1)
        return False

    def click(self, x, y):
        """A real mouse click at page coordinates (CSS pixels)."""
        for kind in ["mousePressed", "mouseReleased"]:
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def key(self, key, code, text=None):
        down = {"type": "keyDown", "key": key, "code": code}
        if text: down["text"] = text
        self.call("Input.dispatchKeyEvent", down); self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code})

    def screenshot(self, path):
        open(path, "wb").write(base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"]))

    def console(self):
        lines = []
        with self.condition: events = list(self.events)
        for event in events:
            method, p = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                lines.append(f"CONSOLE({p.get('type')}): " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = p.get("exceptionDetails", {}); lines.append("Uncaught " + str(details.get("exception", {}).get("description") or details.get("text")))
            elif method == "Log.entryAdded":
                entry = p.get("entry", {}); lines.append(f"CONSOLE({entry.get('level')}) {entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
            elif method == "Page.javascriptDialogOpening":
                lines.append(f"DIALOG {p.get('type')}: {p.get('message')}")
        return lines

    def close(self):
        try: self.call("Browser.close", session=False, timeout=5)
        except RuntimeError: pass
        try: self.process.wait(timeout=10)
        except subprocess.TimeoutExpired: self.process.kill()
