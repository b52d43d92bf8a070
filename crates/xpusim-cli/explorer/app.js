"use strict";
// The explorer's page logic. It holds no model: every number comes from the engine (the
// xpusim command line compiled to WebAssembly) answering the command line the page shows.

// ---------- the engine: one JSON request, one JSON reply through linear memory ----------
// The engine is built for wasm32-wasip1 (WASI) rather than wasm32-unknown-unknown: there,
// the chart library measures text as the native binary does instead of through the DOM, so
// the page's SVG charts are the terminal's byte for byte. This is the whole system
// interface it may touch: clocks, randomness and stderr work; the filesystem and the
// environment are empty (a read gives ENOENT, which the engine reports as a missing file).
const ERRNO = { SUCCESS: 0, BADF: 8, NOENT: 44, NOSYS: 52 };
function wasi(engine) {
  const mem = () => engine.ex.memory.buffer;
  const view = () => new DataView(mem());
  const stub = (errno) => () => errno;
  return {
    random_get(ptr, len) {
      for (let at = 0; at < len; at += 65536) crypto.getRandomValues(new Uint8Array(mem(), ptr + at, Math.min(65536, len - at)));
      return ERRNO.SUCCESS;
    },
    environ_sizes_get(count, size) { view().setUint32(count, 0, true); view().setUint32(size, 0, true); return ERRNO.SUCCESS; },
    environ_get: stub(ERRNO.SUCCESS),
    clock_time_get(id, _precision, out) {
      const ns = id === 0 ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6));
      view().setBigUint64(out, ns, true);
      return ERRNO.SUCCESS;
    },
    fd_write(fd, iovs, n, written) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ptr = view().getUint32(iovs + 8 * i, true), len = view().getUint32(iovs + 8 * i + 4, true);
        if (fd === 1 || fd === 2) engine.stderr += new TextDecoder().decode(new Uint8Array(mem(), ptr, len));
        total += len;
      }
      view().setUint32(written, total, true);
      return fd === 1 || fd === 2 ? ERRNO.SUCCESS : ERRNO.BADF;
    },
    proc_exit(code) { throw new Error(`the engine exited with status ${code}`); },
    sched_yield: stub(ERRNO.SUCCESS),
    fd_prestat_get: stub(ERRNO.BADF),
    path_open: stub(ERRNO.NOENT),
    path_filestat_get: stub(ERRNO.NOENT),
  };
}
const Engine = {
  module: null, ex: null, files: new Map(), stderr: "",
  // Synchronous from end to end, so the first result is in the page before its load event.
  load() {
    const text = atob(WASM_GZ_B64);
    const gz = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) gz[i] = text.charCodeAt(i);
    this.module = new WebAssembly.Module(gunzip(gz));
    this.instantiate();
  },
  instantiate() {
    const sys = wasi(this);
    const imports = { wasi_snapshot_preview1: {} };
    for (const imp of WebAssembly.Module.imports(this.module)) {
      if (imp.module !== "wasi_snapshot_preview1") throw new Error(`the engine imports ${imp.module}.${imp.name}, which the page does not provide`);
      imports.wasi_snapshot_preview1[imp.name] = sys[imp.name] || (() => (imp.name.startsWith("fd_") ? ERRNO.BADF : ERRNO.NOSYS));
    }
    this.ex = new WebAssembly.Instance(this.module, imports).exports;
    // A fresh instance has an empty memfs: give it back the files the page registered.
    for (const [name, text] of this.files) this.raw({ add_file: { name, text } });
  },
  raw(req) {
    const bytes = new TextEncoder().encode(JSON.stringify(req));
    const ptr = this.ex.xpusim_alloc(bytes.length);
    new Uint8Array(this.ex.memory.buffer, ptr, bytes.length).set(bytes);
    const n = this.ex.xpusim_call(ptr, bytes.length);
    const out = new Uint8Array(this.ex.memory.buffer, this.ex.xpusim_reply_ptr(), n);
    return JSON.parse(new TextDecoder().decode(out));
  },
  call(req) {
    this.stderr = "";
    try {
      return this.raw(req);
    } catch (e) {
      // A trap (an engine panic, its message on stderr) leaves the instance unusable.
      const said = this.stderr.trim();
      this.instantiate();
      return { ok: false, error: `internal error in the engine: ${said || e.message}; please report the command line` };
    }
  },
  cli(argv) {
    const r = this.call({ cli: argv });
    if (!r.ok) throw new Error(r.error);
    return r.stdout;
  },
  json(argv) { return JSON.parse(this.cli(argv)); },
  addFile(name, text) { this.files.set(name, text); this.call({ add_file: { name, text } }); },
  readFile(name) { const r = this.call({ read_file: name }); if (!r.ok) throw new Error(r.error); return r.text; },
  hwSource(name) { const r = this.call({ hw_source: name }); if (!r.ok) throw new Error(r.error); return JSON.parse(r.json); },
  toToml(obj) { const r = this.call({ json_to_toml: JSON.stringify(obj) }); if (!r.ok) throw new Error(r.error); return r.text; },
};

// ---------- state, in the URL ----------
const DEFAULTS = { model: "llama-2-7b", hw: "h100-sxm", phase: "", batch: "", seq: "", precision: "", view: "model",
  rate: "2", requests: "200", in: "1024", out: "128",
  thw: "dgx-h100", nodes: "", tp: "", pp: "", dp: "", mb: "", gb: "", zero: "1", recompute: "none" };
const S = { ...DEFAULTS, edits: {} };

function readUrl() {
  const q = new URLSearchParams(location.search);
  for (const k of Object.keys(DEFAULTS)) if (q.has(k)) S[k] = q.get(k);
  S.edits = {};
  for (const [k, v] of q) if (k.startsWith("edit.")) S.edits[k.slice(5)] = v;
}
function writeUrl() {
  const q = new URLSearchParams();
  for (const [k, d] of Object.entries(DEFAULTS)) if (S[k] !== "" && (S[k] !== d || ["model", "hw", "phase", "batch"].includes(k))) q.set(k, S[k]);
  for (const [k, v] of Object.entries(S.edits)) q.set(`edit.${k}`, v);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

// ---------- helpers ----------
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
function si(v, unit) {
  if (!isFinite(v)) return `${v} ${unit}`;
  const a = Math.abs(v);
  const p = [[1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"]];
  for (const [f, s] of p) if (a >= f) return `${(v / f).toPrecision(3)} ${s}${unit}`;
  return `${v.toPrecision(3)} ${unit}`;
}
const secs = (s) => si(s, "s");
function showError(msg) { $("error").textContent = msg || ""; }
function argvText(argv) { return "xpusim " + argv.map((a) => (/^[\w.,:=@/+-]+$/.test(a) ? a : `'${a}'`)).join(" "); }
function download(name, text, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}

// ---------- catalogue ----------
let MODELS = [], DEVICES = [], SYSTEMS = [];
function catalogue() {
  MODELS = Engine.json(["list", "models", "--format", "json"]);
  DEVICES = Engine.json(["list", "hw", "--format", "json"]).map((d) => d.name);
  SYSTEMS = Engine.json(["list", "systems", "--format", "json"]).map((s) => s.name);
  $("model").innerHTML = MODELS.map((m) => `<option value="${esc(m.name)}">${esc(m.name)} (${esc(m.era)})</option>`).join("");
  const opts = (names) => names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
  $("hw").innerHTML = `<optgroup label="Devices">${opts(DEVICES)}</optgroup><optgroup label="Systems">${opts(SYSTEMS)}</optgroup>`;
  $("t-hw").innerHTML = opts(SYSTEMS) + opts(DEVICES);
}
const modelInfo = () => MODELS.find((m) => m.name === S.model || (m.aliases || []).includes(S.model));
function inferencePhases() {
  const m = modelInfo();
  return (m ? m.phases : ["inference"]).filter((p) => p !== "train");
}

// ---------- the edited chip ----------
let baseSpec = null, baseName = "";
function specOf(name) {
  if (baseName !== name) { baseSpec = Engine.hwSource(name); baseName = name; }
  return baseSpec;
}
function getPath(obj, path) { return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj); }
function setPath(obj, path, value) {
  const ks = path.split("."); let o = obj;
  for (const k of ks.slice(0, -1)) { if (o[k] == null || typeof o[k] !== "object") throw new Error(`edit.${path}: no such field in ${baseName}`); o = o[k]; }
  const last = ks[ks.length - 1];
  if (!(last in o)) throw new Error(`edit.${path}: no such field in ${baseName}`);
  const old = o[last];
  o[last] = typeof old === "number" ? Number(value) : typeof old === "boolean" ? value === "true" : value;
  if (typeof old === "number" && !isFinite(o[last])) throw new Error(`edit.${path}: expected a number, got "${value}"`);
}
function editedSpec() {
  const hw = S.hw.split(",")[0];
  const spec = structuredClone(specOf(hw));
  for (const [p, v] of Object.entries(S.edits)) setPath(spec, p, v);
  spec.name = `${hw}-edited`;
  return spec;
}
/** The --hw value of the first target: its preset, or the edited spec as an in-memory file. */
function firstHw() {
  const hw = S.hw.split(",")[0];
  if (Object.keys(S.edits).length === 0) return hw;
  const name = `explorer:edited/${hw}.toml`;
  Engine.addFile(name, Engine.toToml(editedSpec()));
  return name;
}
function targets() { const hs = S.hw.split(",").filter(Boolean); return [firstHw(), ...hs.slice(1)]; }

// ---------- view 1: the model on each target ----------
let lastRun = null, presetRun = null;
function workloadArgs() {
  const a = ["--model", S.model];
  if (S.phase) a.push("--phase", S.phase);
  if (S.batch) a.push("--batch", S.batch);
  if (S.seq) a.push("--seq", S.seq);
  if (S.precision) a.push("--precision", S.precision);
  return a;
}
function runModel() {
  const out = $("result");
  out.dataset.state = "loading";
  const t0 = performance.now();
  const hws = targets();
  const rows = [];
  let first = null;
  for (const [i, hw] of hws.entries()) {
    const argv = ["run", ...workloadArgs(), "--hw", hw, "--format", "json"];
    const res = Engine.json(argv);
    if (i === 0) first = { argv, res };
    rows.push(res);
  }
  const ms = performance.now() - t0;
  lastRun = first;
  const r = first.res;
  out.dataset.latencyS = String(r.latency_s);
  out.dataset.energyJ = String(r.energy_j);
  out.dataset.throughputPerS = String(r.throughput_per_s);
  out.dataset.tokensPerS = String(r.tokens_per_s);
  out.dataset.argv = JSON.stringify(first.argv);
  out.dataset.computeMs = ms.toFixed(2);
  // With edits, the same run on the unedited preset says what the edits bought.
  let delta = "";
  delete out.dataset.presetLatencyS;
  if (Object.keys(S.edits).length) {
    const argv = ["run", ...workloadArgs(), "--hw", S.hw.split(",")[0], "--format", "json"];
    const key = JSON.stringify(argv);
    // The preset's result does not move with a slider: computed once per workload.
    if (!presetRun || presetRun.key !== key) presetRun = { key, res: Engine.json(argv) };
    const base = presetRun.res;
    out.dataset.presetLatencyS = String(base.latency_s);
    const pct = (a, b) => `${a >= b ? "+" : "−"}${Math.abs(100 * (a / b - 1)).toFixed(1)} %`;
    delta = ` <span class="${r.latency_s <= base.latency_s ? "down" : "up"}">(latency ${pct(r.latency_s, base.latency_s)}, ` +
      `energy ${pct(r.energy_j, base.energy_j)} vs ${esc(base.hardware)})</span>`;
  }
  out.innerHTML = `${esc(r.model)} on <b>${esc(r.hardware)}</b>: latency <b>${secs(r.latency_s)}</b>, ` +
    `${si(r.throughput_per_s, "samples/s")}, energy ${si(r.energy_j, "J")} per pass${delta}` +
    ` <small>(${ms.toFixed(1)} ms in the page)</small>`;
  $("model-argv").textContent = hws.map((h) => argvText(["run", ...workloadArgs(), "--hw", h, "--format", "json"])).join("\n");
  $("targets").tHead.innerHTML = "<tr><th>target</th><th>latency</th><th>samples/s</th><th>tokens/s</th><th>energy/pass</th><th>power/device</th><th>bound</th><th>memory</th></tr>";
  $("targets").tBodies[0].innerHTML = rows.map((c) => `<tr><td>${esc(c.hardware)}</td><td>${secs(c.latency_s)}</td>` +
    `<td>${si(c.throughput_per_s, "")}</td><td>${si(c.tokens_per_s, "")}</td><td>${si(c.energy_j, "J")}</td>` +
    `<td>${si(c.energy_j / c.latency_s / Math.max(1, c.devices), "W")}</td><td>${esc(typeof c.bound === "string" ? c.bound : JSON.stringify(c.bound))}</td>` +
    `<td>${c.fits_in_memory ? "fits" : "<b>does not fit</b>"}</td></tr>`).join("");
  out.dataset.state = "ready";
}
function modelReport() {
  if (!lastRun) return;
  const name = "explorer:report/run.html";
  Engine.cli(["run", ...workloadArgs(), "--hw", targets()[0], "--format", "json", "--html", name]);
  $("model-report").srcdoc = Engine.readFile(name);
}

// ---------- view 2: the chip editor ----------
// The fields a designer moves first get sliders (÷4 … ×4 of the preset's value).
const MAIN = [/^clock_ghz$/, /^cores$/, /^matrix\.peak_tflops\./, /^vector\.peak_tflops\./, /^matrix\.efficiency$/,
  /^memory\.\d+\.(bandwidth_gbps|capacity_bytes)$/, /^power\.tdp_w$/, /^array\.(rows|cols)$/, /^pim\./, /^interconnect\..*gbps/];
function leaves(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object") leaves(v, p, out);
    else out.push([p, v]);
  }
  return out;
}
function renderChip() {
  const hw = S.hw.split(",")[0];
  const spec = specOf(hw);
  $("chip-name").textContent = hw;
  // Top-level numbers first, then sections; calibration curves, names and citations last.
  const rank = (p) => (/^(calibration|aliases|sources|unverified)/.test(p) ? 2 : p.includes(".") ? 1 : 0);
  const fields = leaves(spec, "", []).sort((a, b) => rank(a[0]) - rank(b[0]));
  const id = (p) => "f-" + p.replace(/[^\w]/g, "-");
  const cur = (p, v) => (p in S.edits ? S.edits[p] : v);
  $("chip-fields").innerHTML = fields.map(([p, v]) => {
    const type = typeof v === "number" ? "number" : "text";
    return `<div class="field"><label for="${id(p)}">${esc(p)}</label><input id="${id(p)}" data-path="${esc(p)}" type="${type}" ` +
      `${type === "number" ? 'step="any"' : ""} value="${esc(cur(p, v))}" class="${p in S.edits ? "edited" : ""}"></div>`;
  }).join("");
  $("chip-sliders").innerHTML = fields.filter(([p, v]) => typeof v === "number" && v > 0 && MAIN.some((re) => re.test(p))).map(([p, v]) => {
    const sid = "s-" + p.replace(/[^\w]/g, "-");
    const now = Number(cur(p, v));
    return `<div class="field"><label for="${sid}">${esc(p)}: <span data-shown="${esc(p)}">${si(now, "")}</span></label>` +
      `<input id="${sid}" type="range" data-path="${esc(p)}" data-base="${v}" min="${Math.log2(v) - 2}" max="${Math.log2(v) + 2}" step="0.05" value="${Math.log2(now)}"></div>`;
  }).join("");
}
function onChipInput(ev) {
  const el = ev.target;
  const p = el.dataset.path;
  if (!p) return;
  const spec = specOf(S.hw.split(",")[0]);
  const orig = getPath(spec, p);
  let v = el.type === "range" ? 2 ** Number(el.value) : el.value;
  // A cleared or unparsable number is no edit (yet): the result stays as it was.
  if (typeof orig === "number" && (String(v).trim() === "" || !isFinite(Number(v)))) return;
  if (typeof orig === "number") {
    v = Number(v);
    if (Number.isInteger(orig)) v = Math.max(1, Math.round(v));
    else v = Number(v.toPrecision(4));
  }
  if (String(v) === String(orig)) delete S.edits[p]; else S.edits[p] = String(v);
  for (const other of document.querySelectorAll(`[data-path="${CSS.escape(p)}"]`)) {
    if (other !== el) other.value = other.type === "range" ? Math.log2(Number(v)) : v;
  }
  for (const s of document.querySelectorAll(`[data-shown="${CSS.escape(p)}"]`)) s.textContent = si(Number(v), "");
  refresh();
}

// ---------- view 3: the board flip ----------
function runFlip() {
  const box = $("flip-out");
  box.dataset.state = "loading";
  const hws = targets();
  const name = "explorer:report/flip.html";
  const argv = ["flip", "--hw", hws.join(","), "--format", "json", "--html", name];
  const r = Engine.json(argv);
  const a = r.analysis;
  box.innerHTML = `<table id="flip-table"><caption>Efficiency relative to the best design per era (${esc(a.metric)})</caption><thead><tr><th>design</th>` +
    a.eras.map((e) => `<th>${esc(e)}</th>`).join("") + "<th>geomean</th><th>worst regret</th></tr></thead><tbody>" +
    a.names.map((n, i) => `<tr><td>${esc(n)}</td>` + a.era_eff[i].map((x) => (x == null ? "<td>—</td>" : `<td style="background: rgba(0, 114, 178, ${(0.45 * x).toFixed(2)})">${(100 * x).toFixed(0)}%</td>`)).join("") +
      `<td>${(100 * a.geomean[i]).toFixed(0)}%</td><td>${(100 * a.max_regret[i][0]).toFixed(0)}% (${esc(a.max_regret[i][1])})</td></tr>`).join("") +
    `</tbody></table><ul>${r.verdicts.map((v) => `<li>${esc(v)}</li>`).join("")}</ul><p class="argv">${esc(argvText(argv))}</p>`;
  $("flip-report").srcdoc = Engine.readFile(name);
  box.dataset.state = "ready";
}

// ---------- view 4: serving ----------
function runServe() {
  const box = $("serve-out");
  box.dataset.state = "loading";
  const rate = (10 ** Number(S.rate)).toPrecision(3);
  $("rate-shown").textContent = rate;
  const argv = ["serve", "--model", S.model, "--hw", targets()[0], "--rate", rate, "--requests", S.requests,
    "--input-tokens", S.in, "--output-tokens", S.out, "--format", "json"];
  if (S.precision) argv.push("--precision", S.precision);
  const r = Engine.json(argv);
  const m = r.metrics;
  const row = (name, d) => `<tr><td>${name}</td>${["mean", "p50", "p90", "p99", "max"].map((k) => `<td>${secs(d[k])}</td>`).join("")}</tr>`;
  box.innerHTML = `<table id="serve-table" data-ttft-p99-s="${m.ttft_s.p99}" data-tpot-p99-s="${m.tpot_s.p99}"><caption>${esc(r.model)} served on ${esc(r.hardware)}, ${esc(r.requests_from)}</caption>` +
    "<thead><tr><th></th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr></thead><tbody>" +
    row("time to first token", m.ttft_s) + row("time per output token", m.tpot_s) + row("end to end", m.e2e_s) + "</tbody></table>" +
    `<p>${si(m.requests_per_s, "")} requests/s · ${si(m.output_tokens_per_s, "")} output tokens/s · ${m.preemptions} preemptions · ` +
    `mean ${m.mean_tokens_per_iteration.toFixed(1)} tokens per iteration</p><p class="argv">${esc(argvText(argv))}</p>`;
  box.dataset.state = "ready";
}

// ---------- view 5: training ----------
function trainArgv(search) {
  const argv = ["train", "--model", S.model, "--hw", S.thw, "--format", "json"];
  const opt = [["nodes", "--nodes"], ["tp", "--tp"], ["pp", "--pp"], ["dp", "--dp"], ["mb", "--micro-batch"], ["gb", "--global-batch"]];
  if (!search) for (const [k, f] of opt) if (S[k]) argv.push(f, S[k]);
  if (search) { if (S.nodes) argv.push("--nodes", S.nodes); argv.push("--search"); }
  argv.push("--zero", S.zero, "--recompute", S.recompute);
  if (S.seq) argv.push("--seq", S.seq);
  return argv;
}
function runTrain(search) {
  const box = $("train-out");
  box.dataset.state = "loading";
  const argv = trainArgv(search);
  const r = Engine.json(argv);
  const one = r;
  const L = one.layout || {};
  const layout = `tp=${L.tp} pp=${L.pp} dp=${L.dp} ep=${L.ep} cp=${L.cp}${L.sp ? " +sp" : ""} · micro-batch ${L.micro_batch} of ${L.global_batch} · ZeRO ${L.zero} · recompute ${L.recompute} · ${L.schedule}`;
  const fmt = (k, v) => `<tr><td>${k}</td><td>${v}</td></tr>`;
  const mem = one.memory_per_device_bytes;
  const memTotal = typeof mem === "number" ? mem : mem && mem.total_bytes;
  box.innerHTML = `<table id="train-table" data-mfu="${one.mfu}" data-step-time-s="${one.step_time_s}"><caption>${esc(S.model)} training on ${esc(S.thw)}</caption><tbody>` +
    fmt("layout", esc(layout)) + fmt("fits in memory", one.fits ? "yes" : "<b>no</b>") +
    fmt("step time", secs(one.step_time_s)) + fmt("MFU", `${(100 * one.mfu).toFixed(1)}%`) + fmt("HFU", `${(100 * one.hfu).toFixed(1)}%`) +
    fmt("tokens/s", si(one.tokens_per_s, "")) + fmt("TFLOP/s per device", one.tflops_per_device.toFixed(1)) +
    fmt("memory per device", memTotal != null ? si(memTotal, "B") : esc(JSON.stringify(mem))) +
    fmt("energy per step", si(one.energy_per_step_j, "J")) + fmt("power per device", si(one.power_w_per_device, "W")) +
    `</tbody></table><p class="argv">${esc(argvText(argv))}</p>`;
  box.dataset.state = "ready";
}

// ---------- wiring ----------
function syncInputs() {
  $("model").value = S.model;
  const hs = S.hw.split(",");
  for (const o of $("hw").options) o.selected = hs.includes(o.value);
  const phases = inferencePhases();
  if (!phases.includes(S.phase)) S.phase = phases[0];
  $("phase").innerHTML = phases.map((p) => `<option>${esc(p)}</option>`).join("");
  $("phase").value = S.phase || phases[0];
  $("batch").value = S.batch;
  for (const [id, k] of [["seq", "seq"], ["precision", "precision"], ["requests", "requests"], ["in-tokens", "in"], ["out-tokens", "out"], ["rate", "rate"],
    ["t-hw", "thw"], ["t-nodes", "nodes"], ["t-tp", "tp"], ["t-pp", "pp"], ["t-dp", "dp"], ["t-mb", "mb"], ["t-gb", "gb"], ["t-zero", "zero"], ["t-recompute", "recompute"]]) $(id).value = S[k];
  for (const b of document.querySelectorAll("#tabs button")) {
    const on = b.dataset.view === S.view;
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = 0;
    $(`panel-${b.dataset.view}`).hidden = !on;
  }
}
function refresh() {
  writeUrl();
  showError("");
  try {
    runModel();
  } catch (e) {
    $("result").dataset.state = "error";
    $("result").textContent = "no result";
    showError(e.message);
    return;
  }
  try {
    if (S.view === "model") modelReport();
    if (S.view === "chip" && !$("chip-fields").children.length) renderChip();
    if (S.view === "flip") runFlip();
    if (S.view === "serve") runServe();
    if (S.view === "train") runTrain(false);
  } catch (e) {
    for (const b of document.querySelectorAll("[data-state=loading]")) b.dataset.state = "error";
    showError(e.message);
  }
}
function bind() {
  const on = (id, ev, f) => $(id).addEventListener(ev, f);
  on("model", "change", () => { S.model = $("model").value; S.phase = ""; S.batch = ""; syncInputs(); refresh(); });
  on("hw", "change", () => {
    const sel = [...$("hw").selectedOptions].map((o) => o.value);
    if (!sel.length) return;
    if (sel[0] !== S.hw.split(",")[0]) { S.edits = {}; $("chip-fields").innerHTML = ""; }
    S.hw = sel.join(","); refresh();
    if (S.view === "chip") renderChip();
  });
  for (const [id, k] of [["phase", "phase"], ["batch", "batch"], ["seq", "seq"], ["precision", "precision"], ["requests", "requests"], ["in-tokens", "in"], ["out-tokens", "out"],
    ["t-hw", "thw"], ["t-nodes", "nodes"], ["t-tp", "tp"], ["t-pp", "pp"], ["t-dp", "dp"], ["t-mb", "mb"], ["t-gb", "gb"], ["t-zero", "zero"], ["t-recompute", "recompute"]]) {
    on(id, "change", () => { S[k] = $(id).value; refresh(); });
  }
  on("rate", "input", () => { S.rate = $("rate").value; writeUrl(); try { runServe(); showError(""); } catch (e) { showError(e.message); } });
  on("t-search", "click", () => { try { runTrain(true); showError(""); } catch (e) { showError(e.message); } });
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => { S.view = b.dataset.view; syncInputs(); refresh(); });
  $("tabs").addEventListener("keydown", (ev) => {
    const tabs = [...document.querySelectorAll("#tabs button")];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0 || !["ArrowLeft", "ArrowRight"].includes(ev.key)) return;
    tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length].focus();
  });
  $("chip-fields").addEventListener("change", onChipInput);
  $("chip-sliders").addEventListener("input", onChipInput);
  on("chip-reset", "click", () => { S.edits = {}; renderChip(); refresh(); });
  on("export-json", "click", () => lastRun && download("xpusim-run.json", JSON.stringify(lastRun.res, null, 2), "application/json"));
  on("export-csv", "click", () => lastRun && download("xpusim-run.csv",
    Engine.cli(lastRun.argv.map((a) => (a === "json" ? "csv" : a))), "text/csv"));
  on("export-toml", "click", () => download(`${S.hw.split(",")[0]}-edited.toml`, Engine.toToml(editedSpec()), "application/toml"));
  on("copy-link", "click", () => navigator.clipboard && navigator.clipboard.writeText(location.href));
}

function main() {
  const t0 = performance.now();
  try {
    Engine.load();
    readUrl();
    catalogue();
    syncInputs();
    bind();
    refresh();
    $("result").dataset.firstResultMs = (performance.now() - t0).toFixed(1);
  } catch (e) {
    $("result").dataset.state = "error";
    showError(e.message);
  }
}
main();
