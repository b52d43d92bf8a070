#!/usr/bin/env python3
"""Browser test of the `xpusim explorer` page, driven through ChromeDriver's W3C WebDriver API.

    python3 tools/explorer/browser_test.py SITE_DIR XPUSIM_BIN

SITE_DIR holds the index.html that `xpusim explorer --out SITE_DIR` wrote; XPUSIM_BIN is the
binary whose numbers the page must reproduce. Only the Python standard library is used: the
script starts chromedriver on a free local port, opens a headless Chromium session, runs a
list of named checks (each printing PASS/FAIL/SKIP with its numbers), always deletes the
session and stops chromedriver, and exits 1 if any check failed (2 on a usage or setup error).

The page contract it checks is the explorer's: `#result` carries data-state
(loading|ready|error) and the CLI JSON's latency_s, energy_j, throughput_per_s as
data-latency-s, data-energy-j, data-throughput-per-s; view tabs are
`button[role=tab][data-view=...]`; chip fields are `input[data-path=...]`; state lives in
the URL (edits as `edit.<dotted.path>=<number>`).

Environment: CHROMEDRIVER (default /usr/bin/chromedriver), CHROMIUM (default
/usr/bin/chromium), OUT_DIR (where screenshots and the exported TOML go; default a fresh
temporary directory), EXPLORER_READY_BUDGET_S (the gate on first load, default 5).
"""

import base64
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
TAB = "\ue004"
READY_BUDGET_S = float(os.environ.get("EXPLORER_READY_BUDGET_S", "5"))
READY_TARGET_S = 1.0  # the real target; printed, not gated (CI machines are slow)
READY_WAIT_S = 20.0  # how long to wait for #result to leave "loading"
VIEW_WAIT_S = 90.0  # flip/train views can take a while on a slow machine
REL_TOL = 1e-12
FIELDS = [("latency_s", "latencyS"), ("energy_j", "energyJ"), ("throughput_per_s", "throughputPerS")]
VIEWS = ["model", "chip", "flip", "serve", "train"]


# ------------------------------------------------------------------ WebDriver plumbing


class WebDriverError(Exception):
    def __init__(self, status, error, message):
        super().__init__(f"HTTP {status} {error}: {message}")
        self.error = error


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A chromedriver process and (at most) one session on it."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = None
        self.proc = None
        self.sid = None
        self.log_path = os.path.join(workdir, "chromedriver.log")
        self.profile = tempfile.mkdtemp(prefix="xpusim-explorer-profile-")

    # -- process
    def start(self):
        if not os.access(CHROMEDRIVER, os.X_OK):
            raise RuntimeError(f"{CHROMEDRIVER} not found (apt-get install -y chromium-driver)")
        if not os.access(CHROMIUM, os.X_OK):
            raise RuntimeError(f"{CHROMIUM} not found (apt-get install -y chromium)")
        self.port = free_port()
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so the browser it starts dies with it
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromedriver exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                v = self.http("GET", "/status", timeout=2)
                if v.get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"chromedriver did not become ready on port {self.port}: {self.log_tail()}")

    def log_tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.sid:
            try:
                self.http("DELETE", f"/session/{self.sid}", timeout=15)
            except Exception as e:  # noqa: BLE001 - we are cleaning up
                print(f"note: deleting the session failed: {e}")
            self.sid = None
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        if self.proc:
            self.log.close()
        self.reap_browser()
        shutil.rmtree(self.profile, ignore_errors=True)

    def browser_pids(self):
        """The browser processes of this run: those whose command line names our fresh profile."""
        mark = f"--user-data-dir={self.profile}".encode()
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if mark in f.read():
                        pids.append(int(pid))
            except OSError:
                pass
        return pids

    def reap_browser(self):
        """Chromium shuts down a moment after its session ends; wait for it, then kill what is left."""
        deadline = time.monotonic() + 5
        while self.browser_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.browser_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- HTTP
    def http(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                payload = json.loads(r.read().decode() or "{}")
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                v = json.loads(raw).get("value", {})
                raise WebDriverError(e.code, v.get("error", "?"), str(v.get("message", ""))[:500]) from None
            except (ValueError, AttributeError):
                raise WebDriverError(e.code, "http", raw[:500]) from None
        return payload.get("value")

    def cmd(self, method, path, body=None, timeout=30):
        return self.http(method, f"/session/{self.sid}{path}", body, timeout)

    # -- session
    def new_session(self, download_dir):
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={self.profile}", "--window-size=1280,1600"]
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM, "args": args,
                "prefs": {"download.default_directory": download_dir, "download.prompt_for_download": False},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"script": 60000, "pageLoad": 60000, "implicit": 0},
        }
        v = self.http("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, timeout=60)
        self.sid = v["sessionId"]
        return v["capabilities"]

    # -- commands
    def navigate(self, url):
        self.cmd("POST", "/url", {"url": url}, timeout=90)

    def url(self):
        return self.cmd("GET", "/url")

    def js(self, script, *args, timeout=60):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)}, timeout=timeout)

    def js_async(self, script, *args, timeout=90):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)}, timeout=timeout)

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT_KEY]

    def find_all(self, css):
        return [e[ELEMENT_KEY] for e in self.cmd("POST", "/elements", {"using": "css selector", "value": css})]

    def click(self, el):
        self.cmd("POST", f"/element/{el}/click", {}, timeout=120)

    def clear(self, el):
        self.cmd("POST", f"/element/{el}/clear", {}, timeout=120)

    def send_keys(self, el, text):
        self.cmd("POST", f"/element/{el}/value", {"text": text}, timeout=120)

    def press(self, key):
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}, timeout=60)
        self.cmd("DELETE", "/actions")

    def screenshot(self):
        return base64.b64decode(self.cmd("GET", "/screenshot", timeout=60))

    def cdp(self, method, params):
        return self.cmd("POST", "/goog/cdp/execute", {"cmd": method, "params": params})

    def browser_logs(self):
        """The browser console since the last call: chromedriver's /se/log, else the legacy /log."""
        errors = []
        for path in ("/se/log", "/log"):
            try:
                return self.cmd("POST", path, {"type": "browser"}) or [], path
            except WebDriverError as e:
                errors.append(f"{path}: {e}")
        raise RuntimeError("no log endpoint answered: " + "; ".join(errors))


# ------------------------------------------------------------------ checks


class CheckFailed(Exception):
    pass


class Skip(Exception):
    pass


RESULTS = []


def check(name, fn):
    t0 = time.monotonic()
    try:
        detail = fn() or ""
        status = "PASS"
    except Skip as e:
        status, detail = "SKIP", str(e)
    except CheckFailed as e:
        status, detail = "FAIL", str(e)
    except Exception as e:  # noqa: BLE001 - report, then carry on with the next check
        status, detail = "FAIL", f"{type(e).__name__}: {e}"
        if os.environ.get("EXPLORER_TEST_DEBUG"):
            traceback.print_exc()
    dt = time.monotonic() - t0
    RESULTS.append((name, status, detail))
    print(f"{status} {name} ({dt:.1f} s): {detail}", flush=True)
    return status == "PASS"


def rel_diff(a, b):
    if a == b:
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


class Ctx:
    def __init__(self, d, site, xpusim, out_dir):
        self.d, self.site, self.xpusim, self.out_dir = d, site, xpusim, out_dir
        self.index = "file://" + urllib.parse.quote(os.path.join(os.path.abspath(site), "index.html"))
        self.state = {}

    def page_url(self, params):
        return self.index + "?" + urllib.parse.urlencode(params)

    def cli_run(self, argv):
        cmd = [self.xpusim, "run", *argv, "--format", "json"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise CheckFailed(f"`{' '.join(cmd)}` failed ({p.returncode}): {p.stderr.strip()[-500:]}")
        return json.loads(p.stdout)

    # The result element as a dict (None if absent), with the #error text.
    RESULT_JS = """
        const r = document.getElementById('result');
        const e = document.getElementById('error');
        if (!r) return null;
        return {state: r.dataset.state, data: Object.assign({}, r.dataset),
                error: e ? e.textContent.trim() : null, url: location.href, t: performance.now()};
    """

    def result(self):
        return self.d.js(self.RESULT_JS)

    def wait_ready(self, limit_s=READY_WAIT_S, until=None):
        """Waits until #result is ready (and `until(result)` holds); returns the result dict.

        Uses a MutationObserver inside the page so the moment of readiness is the page's own
        performance.now() (ms since navigation start), then keeps polling if `until` wants more."""
        script = """
            const [limit, done] = [arguments[0], arguments[arguments.length - 1]];
            const st = () => { const r = document.getElementById('result'); return r && r.dataset.state; };
            const fin = (already) => done({state: st(), t: performance.now(), already: !!already});
            if (st() === 'ready' || st() === 'error') return fin(true);
            const obs = new MutationObserver(() => {
                if (st() === 'ready' || st() === 'error') { obs.disconnect(); fin(); } });
            obs.observe(document.documentElement, {attributes: true, subtree: true, attributeFilter: ['data-state']});
            setTimeout(() => { obs.disconnect(); fin(); }, limit);
        """
        deadline = time.monotonic() + limit_s
        first = self.d.js_async(script, int(limit_s * 1000), timeout=limit_s + 30)
        while True:
            r = self.result()
            if r and r["state"] == "ready" and (until is None or until(r)):
                r["t_ready_ms"] = first["t"] if first and first.get("state") == "ready" else r["t"]
                # Ready before we first looked: the time is an upper bound.
                r["t_bound"] = "<= " if first and first.get("already") else ""
                return r
            if r and r["state"] == "error" and (until is None or until(r)):
                raise CheckFailed(f"#result data-state='error', #error={r['error']!r}, url={r['url']}")
            if time.monotonic() > deadline:
                if r is None:
                    raise CheckFailed("no #result element on the page")
                raise CheckFailed(f"#result not ready after {limit_s:.0f} s: data-state={r['state']!r}, "
                                  f"#error={r['error']!r}, url={r['url']}")
            time.sleep(0.05)

    def load(self, params, require_ready=True):
        """A fresh navigation (via about:blank) to the page with these URL params; waits for ready.

        With require_ready=False a page that ends in data-state=error is returned (with a note)
        instead of failing: for checks of the page's structure that need no engine."""
        self.d.navigate("about:blank")
        url = self.page_url(params)
        t0 = time.monotonic()
        self.d.navigate(url)
        try:
            r = self.wait_ready()
        except CheckFailed as e:
            if require_ready:
                raise
            r = self.result() or {}
            r["note"] = f"(the page did not get ready: {e}) "
            return r
        r["wall_s"] = time.monotonic() - t0
        r["note"] = ""
        return r

    def compare(self, r, cli, label=""):
        """Page's data-* numbers against the CLI's JSON; returns a compact description."""
        parts, bad = [], []
        for jk, dk in FIELDS:
            page_s = r["data"].get(dk)
            if page_s is None:
                attr = re.sub("([A-Z])", r"-\1", dk).lower()
                bad.append(f"#result has no data-{attr}")
                continue
            try:
                page_v = float(page_s)
            except ValueError:
                bad.append(f"data-{dk}={page_s!r} is not a number")
                continue
            cli_v = float(cli[jk])
            rd = rel_diff(page_v, cli_v)
            parts.append(f"{jk}={page_v:.6g}" + ("" if rd <= REL_TOL else f" vs CLI {cli_v!r} (rel {rd:.2e})"))
            if rd > REL_TOL:
                bad.append(f"{jk}: page {page_s} vs CLI {cli_v!r} (rel diff {rd:.3e} > {REL_TOL})")
        if bad:
            raise CheckFailed(f"{label}{'; '.join(bad)}")
        return ", ".join(parts)


def argv_of(params):
    a = ["--model", params["model"], "--hw", params["hw"].split(",")[0]]
    for k in ("phase", "batch", "seq", "precision"):
        if params.get(k):
            a += [f"--{k}", str(params[k])]
    return a


BASE = {"model": "llama-2-7b", "hw": "h100-sxm", "phase": "decode", "batch": "8"}
STATES = [
    {"model": "resnet-50", "hw": "a100-80gb", "phase": "inference", "batch": "32"},
    {"model": "bert-large", "hw": "tpu-v4", "phase": "inference", "batch": "16"},
    {"model": "gpt-2", "hw": "h100-sxm", "phase": "prefill", "batch": "1", "seq": "512"},
]


def check_first_load(c):
    r = c.load(BASE)
    t = r["t_ready_ms"] / 1e3
    first_ms = r["data"].get("firstResultMs")
    timing = (f"navigation->ready {r['t_bound']}{t * 1e3:.0f} ms in the page (wall {r['wall_s'] * 1e3:.0f} ms"
              + (f", page's data-first-result-ms {first_ms}" if first_ms else "")
              + f"); target < {READY_TARGET_S:.0f} s {'met' if t < READY_TARGET_S else 'NOT met (not gated)'}")
    c.state["base_latency"] = float(r["data"].get("latencyS", "nan"))
    if t >= READY_BUDGET_S:
        raise CheckFailed(f"{timing}; over the {READY_BUDGET_S:.0f} s sanity bound")
    return timing + "; " + c.compare(r, c.cli_run(argv_of(BASE)))


def check_state(c, params):
    r = c.load(params)
    return f"ready in {r['t_bound']}{r['t_ready_ms']:.0f} ms; " + c.compare(r, c.cli_run(argv_of(params)))


def chip_bandwidth_inputs(c):
    return c.d.js("""
        return [...document.querySelectorAll('input[data-path]')]
          .filter(e => /bandwidth/.test(e.dataset.path))
          .map(e => ({path: e.dataset.path, type: e.type, value: e.value, id: e.id,
                      visible: !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)}));
    """)


def check_edit(c):
    r0 = c.load(BASE)
    lat0 = float(r0["data"]["latencyS"])
    c.d.click(c.d.find('button[data-view="chip"]'))
    c.wait_ready()
    ins = chip_bandwidth_inputs(c)
    mem = []
    for i in ins:
        m = re.fullmatch(r"memory\.(\d+)\.bandwidth_gbps", i["path"])
        if m and i["type"] == "number":
            mem.append((int(m.group(1)), i))
    if not mem:
        raise CheckFailed("no <input type=number data-path=\"memory.N.bandwidth_gbps\"> in the chip view; "
                          f"bandwidth inputs: {[(i['path'], i['type']) for i in ins]}")
    idx, inp = max(mem, key=lambda x: x[0])
    path = inp["path"]
    old = float(inp["value"])
    new = old * 2
    new_s = str(int(new)) if new == int(new) else repr(new)
    el = c.d.find(f'input[type="number"][data-path="{path}"]')
    c.d.clear(el)
    after_clear = c.result()
    c.d.send_keys(el, new_s + TAB)
    want = f"edit.{path}={new_s}"
    r1 = c.wait_ready(until=lambda r: want in urllib.parse.unquote(r["url"]))
    lat1 = float(r1["data"]["latencyS"])
    url = r1["url"]
    c.state.update(edit_url=url, edit_latency=lat1, edit_result=r1, edit_path=path, edit_value=new_s)
    note = ""
    clear_url = urllib.parse.unquote(after_clear["url"]) if after_clear else ""
    m = re.search(re.escape(f"edit.{path}=") + r"([^&]*)", clear_url)
    if m:
        note = f" (note: clearing the field alone re-computed with edit.{path}={m.group(1)!r})"
    detail = (f"{path}: {inp['value']} -> {new_s}; decode latency {lat0:.6g} s -> {lat1:.6g} s "
              f"({lat1 / lat0:.3f}x); url has {want!r}{note}")
    if not lat1 < lat0:
        raise CheckFailed(detail + "; latency did not go down")
    if "edit." not in url:
        raise CheckFailed(detail + f"; URL has no edit.: {url}")
    return detail


def check_edit_reload(c):
    if "edit_url" not in c.state:
        raise Skip("the edit check did not get as far as an edited URL")
    c.d.navigate("about:blank")
    c.d.navigate(c.state["edit_url"])
    r = c.wait_ready()
    lat = float(r["data"]["latencyS"])
    rd = rel_diff(lat, c.state["edit_latency"])
    detail = f"fresh load of the edited URL: latency {lat!r} vs {c.state['edit_latency']!r} before (rel {rd:.1e})"
    if rd > REL_TOL:
        raise CheckFailed(detail)
    return detail


def check_edit_toml(c):
    if "edit_url" not in c.state:
        raise Skip("the edit check did not get as far as an edited URL")
    r = c.result()
    if not r or r["state"] != "ready" or "edit." not in r["url"]:
        raise Skip("the page is not on the edited state any more")
    try:
        el = c.d.find("#export-toml")
    except WebDriverError:
        raise Skip("no #export-toml button") from None
    dl = c.download_dir
    before = set(os.listdir(dl))
    how = "download"
    try:
        c.d.cdp("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": dl})
    except WebDriverError as e:
        print(f"note: Browser.setDownloadBehavior failed ({e}); relying on the download prefs")
    c.d.click(el)
    text, name = None, None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and text is None:
        for f in sorted(set(os.listdir(dl)) - before):
            if f.endswith(".toml"):
                name = f
                with open(os.path.join(dl, f), encoding="utf-8") as fh:
                    text = fh.read()
        time.sleep(0.1)
    if text is None:
        # Fallback: the same button, with the Blob it hands to URL.createObjectURL captured.
        how = "Blob captured from URL.createObjectURL"
        text = c.d.js_async("""
            const done = arguments[arguments.length - 1];
            const orig = URL.createObjectURL, click = HTMLAnchorElement.prototype.click;
            let got = null;
            URL.createObjectURL = function (b) { got = b; return orig.call(URL, b); };
            HTMLAnchorElement.prototype.click = function () {};
            try { document.getElementById('export-toml').click(); }
            finally { URL.createObjectURL = orig; HTMLAnchorElement.prototype.click = click; }
            if (!got) return done(null);
            got.text().then(done, () => done(null));
        """)
        if text is None:
            raise Skip("#export-toml produced neither a download nor a Blob; TOML sub-check skipped")
        name = "exported.toml"
    path = os.path.join(c.out_dir, "edited-" + name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    argv = json.loads(r["data"]["argv"]) if r["data"].get("argv") else None
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r["url"]).query))
    cli_argv = argv_of({**params, "hw": path})
    cli = c.cli_run(cli_argv)
    return (f"TOML via {how} ({len(text)} bytes, {path}); page argv {argv}; "
            f"`xpusim run {' '.join(cli_argv)}`: " + c.compare(r, cli, "page vs CLI on the exported TOML: "))


def check_keyboard(c):
    note = c.load(BASE, require_ready=False)["note"]
    c.d.js("if (document.activeElement) document.activeElement.blur(); window.focus();")
    want = {"#model", "#hw"} | {f"tab:{v}" for v in VIEWS}
    seen, order = set(), []
    for _ in range(80):
        c.d.press(TAB)
        a = c.d.js("""
            const a = document.activeElement;
            if (!a || a === document.body) return null;
            return {tag: a.tagName.toLowerCase(), id: a.id, view: a.dataset ? a.dataset.view || null : null,
                    role: a.getAttribute('role')};
        """)
        if a is None:
            key = "body"
        elif a["role"] == "tab" and a["view"]:
            key = f"tab:{a['view']}"
        elif a["id"]:
            key = f"#{a['id']}"
        else:
            key = a["tag"]
        order.append(key)
        seen.add(key)
        if want <= seen:
            break
    missing = sorted(want - seen)
    detail = f"{note}{len(order)} TABs: {' > '.join(order[:30])}{' ...' if len(order) > 30 else ''}"
    if missing:
        raise CheckFailed(f"focus never reached {missing}; {detail}")
    return detail


NAMES_JS = """
    const text = (e) => (e ? (e.textContent || '').replace(/\\s+/g, ' ').trim() : '');
    const bad = [];
    let n = 0;
    for (const e of document.querySelectorAll('input, select, button, textarea')) {
        if (e.type === 'hidden') continue;
        n++;
        let name = (e.getAttribute('aria-label') || '').trim();
        if (!name && e.getAttribute('aria-labelledby'))
            name = e.getAttribute('aria-labelledby').split(/\\s+/).map(id => text(document.getElementById(id))).join(' ').trim();
        if (!name && e.id)
            name = [...document.querySelectorAll('label')].filter(l => l.htmlFor === e.id).map(text).join(' ').trim();
        if (!name && e.closest('label')) name = text(e.closest('label'));
        if (!name && e.tagName === 'BUTTON') name = text(e);
        if (!name) bad.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.type ? '[type=' + e.type + ']' : '')
                            + (e.dataset.path ? '[data-path=' + e.dataset.path + ']' : '')
                            + (e.dataset.view ? '[data-view=' + e.dataset.view + ']' : ''));
    }
    return {n, bad};
"""


def check_names(c):
    # The chip view, so that its editor's inputs are on the page too.
    note = c.load({**BASE, "view": "chip"}, require_ready=False)["note"]
    v = c.d.js(NAMES_JS)
    chip = c.d.js("return document.querySelectorAll('input[data-path]').length")
    detail = f"{note}{v['n']} controls ({chip} chip-editor inputs)"
    if chip == 0:
        detail += "; note: no chip-editor inputs were on the page"
    if v["bad"]:
        raise CheckFailed(f"{len(v['bad'])} of {detail} lack an accessible name: {v['bad'][:15]}")
    return detail + ", all named"


PANEL_JS = """
    const view = arguments[0];
    const btn = document.querySelector('button[role=tab][data-view="' + view + '"]') ||
                document.querySelector('[data-view="' + view + '"]');
    const id = btn && btn.getAttribute('aria-controls');
    const panel = (id && document.getElementById(id)) || document.getElementById('panel-' + view) ||
                  document.querySelector('[role=tabpanel]:not([hidden])');
    const r = document.getElementById('result'), e = document.getElementById('error');
    return {
        loading: document.querySelectorAll('[data-state=loading]').length,
        result: r ? r.dataset.state : null,
        error: e ? e.textContent.trim() : '',
        panel: panel ? panel.id : null,
        visible: !!(panel && !panel.hidden && panel.getClientRects().length),
        states: panel ? [...panel.querySelectorAll('[data-state]')].map(x => (x.id || x.tagName.toLowerCase()) + '=' + x.dataset.state) : [],
        selected: btn ? btn.getAttribute('aria-selected') : null,
        url: location.href,
    };
"""


def check_view(c, view):
    if "views_loaded" not in c.state:
        c.load(BASE)
        c.state["views_loaded"] = True
    t0 = time.monotonic()
    c.d.click(c.d.find(f'button[data-view="{view}"]'))
    deadline = t0 + VIEW_WAIT_S
    while True:
        p = c.d.js(PANEL_JS, view)
        settled = p["loading"] == 0 and p["result"] in ("ready", "error")
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    dt = time.monotonic() - t0
    png = c.d.screenshot()
    path = os.path.join(c.out_dir, f"explorer-{view}.png")
    with open(path, "wb") as fh:
        fh.write(png)
    detail = (f"panel #{p['panel']} {'shown' if p['visible'] else 'NOT shown'}, settled in {dt:.1f} s, "
              f"states {p['states'] or '-'}, screenshot {len(png) / 1024:.0f} kB -> {path}")
    problems = []
    if not settled:
        problems.append(f"still loading after {VIEW_WAIT_S:.0f} s ({p['loading']} element(s) data-state=loading)")
    if p["result"] != "ready":
        problems.append(f"#result data-state={p['result']!r}")
    if p["error"]:
        problems.append(f"#error says {p['error']!r}")
    if not p["visible"]:
        problems.append("its panel is not visible")
    not_ready = [s for s in p["states"] if not s.endswith("=ready")]
    if not_ready:
        problems.append(f"panel elements not ready: {not_ready}")
    if f"view={view}" not in p["url"] and view != "model":
        problems.append(f"URL lacks view={view}: {p['url']}")
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        problems.append("screenshot is not a PNG")
    if len(png) <= 20 * 1024:
        problems.append(f"screenshot only {len(png)} bytes (<= 20 kB: a blank page?)")
    if problems:
        raise CheckFailed("; ".join(problems) + "; " + detail)
    return detail


def check_console(c):
    entries, endpoint = c.d.browser_logs()
    c.state.setdefault("console", []).extend(entries)
    allv = c.state["console"]
    severe = [e for e in allv if e.get("level") == "SEVERE"]
    levels = {}
    for e in allv:
        levels[e.get("level")] = levels.get(e.get("level"), 0) + 1
    detail = f"{len(allv)} console entries via {endpoint} {levels or ''}"
    if severe:
        msgs = [e.get("message", "")[:300] for e in severe[:8]]
        raise CheckFailed(f"{len(severe)} SEVERE: {msgs}; {detail}")
    return detail


# ------------------------------------------------------------------ main


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[0])
        print("usage: python3 tools/explorer/browser_test.py SITE_DIR XPUSIM_BIN", file=sys.stderr)
        return 2
    site, xpusim = argv[1], os.path.abspath(argv[2])
    if not os.path.isfile(os.path.join(site, "index.html")):
        print(f"error: {site}/index.html does not exist (run `xpusim explorer --out {site}`)", file=sys.stderr)
        return 2
    if not os.access(xpusim, os.X_OK):
        print(f"error: {xpusim} is not an executable", file=sys.stderr)
        return 2
    # A CI timeout's SIGTERM unwinds through the finally below (session deleted, driver stopped).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out_dir = os.environ.get("OUT_DIR") or tempfile.mkdtemp(prefix="xpusim-explorer-test-")
    os.makedirs(out_dir, exist_ok=True)
    out_dir = os.path.abspath(out_dir)
    d = Driver(out_dir)
    t_start = time.monotonic()
    try:
        d.start()
        download_dir = tempfile.mkdtemp(prefix="downloads-", dir=out_dir)  # fresh: Chrome won't overwrite
        caps = d.new_session(download_dir)
        print(f"browser {caps.get('browserName')} {caps.get('browserVersion')}, chromedriver on port {d.port}, "
              f"output in {out_dir}", flush=True)
        c = Ctx(d, site, xpusim, out_dir)
        c.download_dir = download_dir
        check("1 load llama-2-7b decode b8 on h100-sxm", lambda: check_first_load(c))
        for s in STATES:
            label = f"{s['model']} {s['phase']} b{s['batch']}" + (f" seq{s['seq']}" if s.get("seq") else "") + f" on {s['hw']}"
            check(f"2 state {label}", lambda s=s: check_state(c, s))
        check("3a chip edit: 2x off-chip bandwidth lowers decode latency", lambda: check_edit(c))
        check("3b chip edit: the edited URL reloads to the same result", lambda: check_edit_reload(c))
        check("3c chip edit: page == CLI on the exported TOML", lambda: check_edit_toml(c))
        check("4a keyboard: TAB reaches #model, #hw and the view tabs", lambda: check_keyboard(c))
        check("4b every control has an accessible name", lambda: check_names(c))
        for v in VIEWS:
            check(f"5 view {v}: ready, screenshot", lambda v=v: check_view(c, v))
        check("6 browser console has no SEVERE entry", lambda: check_console(c))
    except Exception as e:  # noqa: BLE001 - setup failure: report and fail
        RESULTS.append(("setup", "FAIL", f"{type(e).__name__}: {e}"))
        print(f"FAIL setup: {type(e).__name__}: {e}")
        tail = d.log_tail()
        if tail:
            print("chromedriver log tail:\n" + tail)
    finally:
        d.stop()
    n = {s: sum(1 for _, st, _ in RESULTS if st == s) for s in ("PASS", "FAIL", "SKIP")}
    print(f"\nexplorer browser test: {n['PASS']} passed, {n['FAIL']} failed, {n['SKIP']} skipped "
          f"in {time.monotonic() - t_start:.0f} s (screenshots in {out_dir})")
    for name, st, detail in RESULTS:
        if st != "PASS":
            print(f"  {st} {name}: {detail[:400]}")
    return 1 if n["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
