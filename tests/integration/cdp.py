"""A minimal Chrome DevTools Protocol driver for the browser tests.

Only the standard library and python3-websockets 10.4 (asyncio) are used.
Chrome runs headless in its own process group with a throw-away profile; the
protocol is spoken over one browser-level WebSocket with a flattened session
attached to one page target. The asyncio loop runs in a background thread so
that tests call plain synchronous methods:

    with cdp.Chrome() as c:
        c.navigate("http://127.0.0.1:%d/" % port)
        c.type("#login-user", "ana")
        c.click("#login-submit")
        c.wait_for("document.querySelector('#queue') !== null")
        print(c.evaluate("document.title"))
        c.screenshot("/tmp/page.png")
        assert not c.exceptions and not c.csp_violations

What is collected while the page runs (plain lists of dicts, oldest first):
  console        Runtime.consoleAPICalled: {"type", "text", "url", "line"}
  exceptions     Runtime.exceptionThrown:  {"text", "url", "line"}
  log_entries    Log.entryAdded (browser-side messages such as failed loads):
                 {"source", "level", "text", "url"}
  csp_violations every Content Security Policy violation, from the page's
                 securitypolicyviolation events (through a CDP binding) and
                 from Chrome's own "Refused to ..." log/console messages:
                 {"directive", "blocked", "source", "text"}
  http_errors    responses with status >= 400: {"url", "status", "method"}

Environment: CHROMIUM (path of the browser, default /usr/bin/chromium),
VT_CDP_DEBUG=1 prints every protocol message to stderr.
"""

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import websockets  # python3-websockets 10.4

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEBUG = bool(os.environ.get("VT_CDP_DEBUG"))
DEVTOOLS_RE = re.compile(r"DevTools listening on (ws://\S+)")
CSP_RE = re.compile(r"Content[- ]Security[- ]Policy", re.I)

# Runs in every document before its own scripts: reports CSP violations to
# the driver through the Runtime binding below. It lives in the page's main
# world but defines nothing on window except the binding.
_CSP_HOOK = r"""
(function () {
  document.addEventListener("securitypolicyviolation", function (e) {
    try {
      __vtCdpCsp(JSON.stringify({directive: e.violatedDirective || e.effectiveDirective || "",
                                 blocked: e.blockedURI || "", source: e.sourceFile || "",
                                 line: e.lineNumber || 0, sample: e.sample || ""}));
    } catch (err) { /* binding gone: page closing */ }
  }, true);
})();
"""


class CDPError(Exception):
    """A protocol error answer, or a JavaScript exception from evaluate()."""


def available(binary=None):
    """True when the browser binary exists and is executable."""
    b = binary or CHROMIUM
    return os.path.isfile(b) and os.access(b, os.X_OK)


def js_str(s):
    """A JavaScript string literal for s (JSON is a subset of JS here)."""
    return json.dumps(s)


class Chrome:
    """One headless Chromium with one page. Use as a context manager or call
    close(); close() is idempotent and always removes the temporary profile."""

    def __init__(self, binary=None, width=1280, height=900, timeout=30.0, extra_args=()):
        self.binary = binary or CHROMIUM
        self.timeout = timeout
        self.console = []
        self.exceptions = []
        self.log_entries = []
        self.csp_violations = []
        self.http_errors = []
        self.stderr_lines = []
        self.proc = None
        self._ws = None
        self._session = None
        self._target = None
        self._next_id = 0
        self._pending = {}
        self._waiters = []  # (method, predicate, future)
        self._reader = None
        self._closed = False
        self._profile = tempfile.mkdtemp(prefix="vt-chromium-")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cdp-loop", daemon=True)
        self._thread.start()
        try:
            url = self._launch(extra_args)
            self._call(self._connect(url, width, height), timeout)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------
    # process
    def _launch(self, extra_args):
        if not available(self.binary):
            raise RuntimeError("browser not found at %s" % self.binary)
        args = [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-port=0", "--user-data-dir=" + self._profile,
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-dev-shm-usage", "--disable-features=Translate",
                "--metrics-recording-only", "--mute-audio", "--password-store=basic",
                "--use-mock-keychain", "--no-proxy-server", "--lang=es-CO",
                "--disable-breakpad", "--disable-crash-reporter"]
        args += list(extra_args) + ["about:blank"]
        env = dict(os.environ)
        env.setdefault("LANG", "C.UTF-8")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True, env=env)
        found = []
        cond = threading.Condition()

        def drain():
            for raw in iter(self.proc.stderr.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                with cond:
                    self.stderr_lines.append(line)
                    m = DEVTOOLS_RE.search(line)
                    if m and not found:
                        found.append(m.group(1))
                    cond.notify_all()
            self.proc.stderr.close()
            with cond:
                cond.notify_all()

        threading.Thread(target=drain, name="chromium-stderr", daemon=True).start()
        deadline = time.monotonic() + self.timeout
        with cond:
            while not found:
                if self.proc.poll() is not None:
                    raise RuntimeError("chromium exited with %s before DevTools was ready:\n%s"
                                       % (self.proc.returncode, "\n".join(self.stderr_lines[-30:])))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("no 'DevTools listening' line from chromium within %ss:\n%s"
                                       % (self.timeout, "\n".join(self.stderr_lines[-30:])))
                cond.wait(min(left, 0.2))
        return found[0]

    # ------------------------------------------------------------------
    # protocol plumbing (runs on the loop thread)
    def _call(self, coro, timeout=None):
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout if timeout is not None else self.timeout + 5)
        except BaseException:
            fut.cancel()
            raise

    async def _connect(self, url, width, height):
        self._ws = await websockets.connect(url, max_size=None, ping_interval=None,
                                            open_timeout=self.timeout, close_timeout=2)
        self._reader = asyncio.ensure_future(self._read())
        r = await self._send("Target.createTarget", {"url": "about:blank"}, session=False)
        self._target = r["targetId"]
        r = await self._send("Target.attachToTarget", {"targetId": self._target, "flatten": True},
                             session=False)
        self._session = r["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            await self._send(domain + ".enable")
        await self._send("Runtime.addBinding", {"name": "__vtCdpCsp"})
        await self._send("Page.addScriptToEvaluateOnNewDocument", {"source": _CSP_HOOK})
        await self._set_viewport(width, height, False)
        # the initial about:blank tab is not needed
        try:
            targets = await self._send("Target.getTargets", session=False)
            for t in targets.get("targetInfos", []):
                if t.get("type") == "page" and t.get("targetId") != self._target:
                    await self._send("Target.closeTarget", {"targetId": t["targetId"]}, session=False)
        except CDPError:
            pass

    async def _set_viewport(self, width, height, mobile):
        await self._send("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    async def _send(self, method, params=None, session=True, timeout=None):
        self._next_id += 1
        mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session and self._session:
            msg["sessionId"] = self._session
        fut = self._loop.create_future()
        self._pending[mid] = fut
        raw = json.dumps(msg)
        if DEBUG:
            print("cdp> %s" % raw[:500], file=sys.stderr)
        await self._ws.send(raw)
        try:
            resp = await asyncio.wait_for(fut, timeout if timeout is not None else self.timeout)
        finally:
            self._pending.pop(mid, None)
        if "error" in resp:
            raise CDPError("%s: %s" % (method, resp["error"].get("message", resp["error"])))
        return resp.get("result", {})

    async def _read(self):
        try:
            async for raw in self._ws:
                if DEBUG:
                    print("cdp< %s" % raw[:500], file=sys.stderr)
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self._pending.get(msg["id"])
                    if fut and not fut.done():
                        fut.set_result(msg)
                    continue
                method = msg.get("method")
                if msg.get("sessionId") not in (None, self._session):
                    continue
                try:
                    self._on_event(method, msg.get("params", {}))
                except Exception as e:  # noqa: BLE001 - a bad event must not kill the reader
                    print("cdp: error handling %s: %r" % (method, e), file=sys.stderr)
                for w in list(self._waiters):
                    m, pred, fut = w
                    if m == method and not fut.done() and pred(msg.get("params", {})):
                        fut.set_result(msg.get("params", {}))
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(CDPError("DevTools connection closed"))

    @staticmethod
    def _remote_text(obj):
        if "value" in obj:
            v = obj["value"]
            return v if isinstance(v, str) else json.dumps(v)
        if "unserializableValue" in obj:
            return obj["unserializableValue"]
        return obj.get("description", obj.get("type", ""))

    def _add_csp(self, directive, blocked, source, text):
        self.csp_violations.append({"directive": directive, "blocked": blocked, "source": source,
                                    "text": text})

    def _on_event(self, method, p):
        if method == "Runtime.consoleAPICalled":
            text = " ".join(self._remote_text(a) for a in p.get("args", []))
            frame = (p.get("stackTrace") or {}).get("callFrames") or [{}]
            self.console.append({"type": p.get("type"), "text": text, "url": frame[0].get("url", ""),
                                 "line": frame[0].get("lineNumber", 0)})
            if CSP_RE.search(text) and "Refused" in text:
                self._add_csp("", "", "console", text)
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            exc = d.get("exception") or {}
            text = exc.get("description") or d.get("text", "")
            self.exceptions.append({"text": text, "url": d.get("url", ""), "line": d.get("lineNumber", 0)})
        elif method == "Runtime.bindingCalled" and p.get("name") == "__vtCdpCsp":
            try:
                v = json.loads(p.get("payload", "{}"))
            except ValueError:
                v = {}
            self._add_csp(v.get("directive", ""), v.get("blocked", ""), v.get("source", ""),
                          "securitypolicyviolation %s blocked=%s at %s:%s %s" % (
                              v.get("directive"), v.get("blocked"), v.get("source"), v.get("line"),
                              v.get("sample", "")))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            entry = {"source": e.get("source"), "level": e.get("level"), "text": e.get("text", ""),
                     "url": e.get("url", "")}
            self.log_entries.append(entry)
            if CSP_RE.search(entry["text"]) or e.get("source") == "security" and "Refused" in entry["text"]:
                self._add_csp("", "", "log", entry["text"])
        elif method == "Network.responseReceived":
            r = p.get("response", {})
            if r.get("status", 0) >= 400:
                self.http_errors.append({"url": r.get("url"), "status": r.get("status"),
                                         "method": (r.get("requestHeaders") or {}).get(":method", "")})

    async def _wait_event(self, method, predicate, timeout, trigger=None):
        fut = self._loop.create_future()
        w = (method, predicate, fut)
        self._waiters.append(w)
        try:
            if trigger is not None:
                await trigger
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters.remove(w)

    # ------------------------------------------------------------------
    # public API (synchronous)
    def send(self, method, params=None, timeout=None):
        """Sends one raw protocol command to the page session; returns its result."""
        return self._call(self._send(method, params, timeout=timeout), (timeout or self.timeout) + 5)

    def set_viewport(self, width, height, mobile=False):
        self._call(self._set_viewport(width, height, mobile))

    def navigate(self, url, timeout=None):
        """Loads url and waits for its load event (a same-document navigation,
        such as a change of #fragment only, returns at once). Raises CDPError
        when the navigation itself fails (connection refused, bad URL...)."""
        timeout = timeout or self.timeout

        async def go():
            fut = self._loop.create_future()
            w = ("Page.loadEventFired", lambda p: True, fut)
            self._waiters.append(w)
            try:
                r = await self._send("Page.navigate", {"url": url})
                if r.get("errorText"):
                    raise CDPError("navigate %s: %s" % (url, r["errorText"]))
                if r.get("loaderId"):
                    await asyncio.wait_for(fut, timeout)
                return r
            finally:
                self._waiters.remove(w)

        return self._call(go(), timeout + 5)

    def reload(self, timeout=None):
        timeout = timeout or self.timeout

        async def go():
            await self._wait_event("Page.loadEventFired", lambda p: True, timeout,
                                   self._send("Page.reload", {"ignoreCache": True}))

        self._call(go(), timeout + 5)

    def evaluate(self, js, timeout=None):
        """Evaluates the expression js in the page (awaiting a returned promise)
        and returns its value (JSON-serialisable values only; undefined is None).
        A thrown exception raises CDPError."""
        r = self.send("Runtime.evaluate", {"expression": js, "returnByValue": True, "awaitPromise": True,
                                           "userGesture": True}, timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            exc = d.get("exception") or {}
            raise CDPError("evaluate(%s): %s" % (js[:200], exc.get("description") or d.get("text")))
        res = r.get("result", {})
        return res.get("value")

    def wait_for(self, js_condition, timeout=60.0, interval=0.05, message=None):
        """Polls the expression js_condition until it is truthy; returns its value.
        Raises TimeoutError (with the last evaluation error, if any) after timeout."""
        deadline = time.monotonic() + timeout
        last_err = None
        # JavaScript truthiness decides (an element or {} is true); a DOM
        # node comes back as True since it cannot be returned by value
        probe = ("(function(){var v=(%s);return {ok:!!v,v:(v&&typeof v==='object'&&v.nodeType)?true:v};})()"
                 % js_condition)
        while True:
            try:
                r = self.evaluate(probe)
                if r and r.get("ok"):
                    return r.get("v", True)
                last_err = None
            except CDPError as e:
                last_err = e
            if time.monotonic() >= deadline:
                raise TimeoutError("%s: %s was not true within %.1fs%s%s" % (
                    message or "wait_for", js_condition, timeout,
                    "; last error: %s" % last_err if last_err else "",
                    "; page exceptions: %r" % self.exceptions if self.exceptions else ""))
            time.sleep(interval)

    def exists(self, selector):
        return bool(self.evaluate("document.querySelector(%s) !== null" % js_str(selector)))

    def text(self, selector):
        """The textContent of the first element matching selector (None if absent)."""
        return self.evaluate("(function(){var e=document.querySelector(%s);return e?e.textContent:null;})()"
                             % js_str(selector))

    def wait_visible(self, selector, timeout=60.0):
        return self.wait_for(
            "(function(){var e=document.querySelector(%s);if(!e)return false;var r=e.getBoundingClientRect();"
            "return r.width>0&&r.height>0&&getComputedStyle(e).visibility!=='hidden';})()" % js_str(selector),
            timeout, message="wait_visible(%s)" % selector)

    def click(self, selector, timeout=60.0):
        """Scrolls the element into view and clicks its centre with real mouse
        events. Fails if it is missing, invisible, or covered by another element."""
        probe = ("(function(){var e=document.querySelector(%s);if(!e)return null;"
                 "e.scrollIntoView({block:'center',inline:'center'});var r=e.getBoundingClientRect();"
                 "if(r.width===0||r.height===0)return {hidden:true};"
                 "var x=r.left+r.width/2,y=r.top+r.height/2,t=document.elementFromPoint(x,y);"
                 "return {x:x,y:y,hit:!!t&&(t===e||e.contains(t)||(t.control===e)),"
                 "what:t?t.tagName+(t.id?'#'+t.id:''):''};})()" % js_str(selector))
        deadline = time.monotonic() + timeout
        while True:
            r = self.evaluate(probe)
            if r and not r.get("hidden") and r.get("hit"):
                break
            if time.monotonic() >= deadline:
                if r is None:
                    raise CDPError("click(%s): no such element" % selector)
                if r.get("hidden"):
                    raise CDPError("click(%s): element is not visible" % selector)
                raise CDPError("click(%s): element is covered by %s" % (selector, r.get("what")))
            time.sleep(0.05)
        x, y = r["x"], r["y"]
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left",
                                               "buttons": 1, "clickCount": 1})
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left",
                                               "buttons": 0, "clickCount": 1})

    def type(self, selector, text):
        """Sets the value of an input, textarea or select (focusing it first)
        and dispatches input and change events, as a user edit would. For a
        checkbox or radio, text is truthy/falsy and sets checked."""
        js = ("(function(){var e=document.querySelector(%s);if(!e)return 'missing';e.focus();"
              "var v=%s;if(e.type==='checkbox'||e.type==='radio'){e.checked=!!v;}"
              "else{var proto=e.tagName==='TEXTAREA'?HTMLTextAreaElement.prototype:"
              "e.tagName==='SELECT'?HTMLSelectElement.prototype:HTMLInputElement.prototype;"
              "Object.getOwnPropertyDescriptor(proto,'value').set.call(e,String(v));"
              "if(e.tagName==='SELECT'&&e.value!==String(v))return 'no option '+String(v);}"
              "e.dispatchEvent(new Event('input',{bubbles:true}));"
              "e.dispatchEvent(new Event('change',{bubbles:true}));return 'ok';})()"
              % (js_str(selector), json.dumps(text)))
        r = self.evaluate(js)
        if r != "ok":
            raise CDPError("type(%s): %s" % (selector, r))

    select = type

    def press_enter(self, selector):
        """Focuses selector and presses Enter (submits a form the way a user would)."""
        self.evaluate("document.querySelector(%s).focus()" % js_str(selector))
        for t in ("rawKeyDown", "char", "keyUp"):
            p = {"type": t, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
            if t == "char":
                p["text"] = "\r"
            self.send("Input.dispatchKeyEvent", p)

    def set_files(self, selector, paths):
        """Puts files (absolute paths) into an <input type=file>."""
        doc = self.send("DOM.getDocument", {"depth": 0})
        node = self.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": selector})
        if not node.get("nodeId"):
            raise CDPError("set_files(%s): no such element" % selector)
        self.send("DOM.setFileInputFiles", {"nodeId": node["nodeId"], "files": [os.path.abspath(p) for p in paths]})
        self.evaluate("(function(){var e=document.querySelector(%s);"
                      "e.dispatchEvent(new Event('change',{bubbles:true}));})()" % js_str(selector))

    def screenshot(self, path, full_page=True):
        """Saves a PNG of the page (the whole page unless full_page is False); returns path."""
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        r = self.send("Page.captureScreenshot", params, timeout=self.timeout)
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def cookies(self):
        return self.send("Network.getCookies").get("cookies", [])

    def console_errors(self):
        """Console messages of type error/assert (from the page's scripts)."""
        return [m for m in self.console if m["type"] in ("error", "assert")]

    def clear_collected(self):
        for lst in (self.console, self.exceptions, self.log_entries, self.csp_violations, self.http_errors):
            del lst[:]

    def report(self):
        """A multi-line summary of everything collected, for failure messages."""
        out = []
        for name in ("exceptions", "csp_violations", "console", "log_entries", "http_errors"):
            lst = getattr(self, name)
            if lst:
                out.append("%s:" % name)
                out.extend("  %r" % (x,) for x in lst[-30:])
        return "\n".join(out) or "(nothing collected)"

    # ------------------------------------------------------------------
    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._ws is not None and self._loop.is_running():
            async def shut():
                try:
                    await self._send("Browser.close", session=False, timeout=3)
                except Exception:  # noqa: BLE001 - the answer may never come
                    pass
                try:
                    await self._ws.close()
                except Exception:  # noqa: BLE001
                    pass
                if self._reader:
                    self._reader.cancel()
            try:
                self._call(shut(), 8)
            except Exception:  # noqa: BLE001
                pass
        if self.proc is not None:
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                pass
            # the whole process group: the wrapper script, the browser, its
            # zygote, renderers and utilities (some may outlive the main one)
            for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    self.proc.wait(wait)
                except subprocess.TimeoutExpired:
                    pass
                time.sleep(0.05)
            self._kill_strays()
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running():
            self._loop.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _kill_strays(self):
        """Kills what left the process group (chrome_crashpad_handler starts
        its own session) but still names this instance's profile directory."""
        me = self._profile.encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if me in cmd:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
