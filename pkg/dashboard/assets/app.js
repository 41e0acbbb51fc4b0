// switchyard dashboard: plain JavaScript, no framework, no build step. It reads the daemon's
// /ui/api endpoints and keeps itself current from the /ui/stream server-sent events.
'use strict';

// Script errors are kept for the browser tests' failure messages (and the console).
window.__errors = [];
window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));

const S = {
  session: null,   // {actor, read_only, csrf_token, expires_at, now}
  offset: 0,       // daemon clock minus browser clock (ms): bake countdowns use the daemon's time
  services: [],
  active: [],      // ids of active deployments, newest first
  history: [],     // deployments, newest first
  details: {},     // id -> {deployment, events, weights}
  selected: null,  // id shown in the "Deployment" section
  es: null,
  timers: {},
};

const $ = (sel) => document.querySelector(sel);

// h builds an element: h('td', {class: 'x', text: 'y', onclick: f, 'data-k': v}, child...).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const now = () => Date.now() + S.offset;
const pct = (w, slot) => { const t = w.blue + w.green; return t ? 100 * w[slot] / t : 0; };
const fmtPct = (v) => (Math.round(v * 10) / 10) + '%';
const fmtTime = (t) => t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
const short = (id) => id.length > 12 ? id.slice(0, 12) : id;
function fmtDur(ms) {
  if (ms <= 0) return '0s';
  const s = Math.ceil(ms / 1000), m = Math.floor(s / 60), hr = Math.floor(m / 60);
  if (hr) return hr + 'h' + (m % 60) + 'm';
  if (m) return m + 'm' + (s % 60) + 's';
  return s + 's';
}
// Go durations as JSON strings ("1m30s", "500ms") to milliseconds.
function parseDur(s) {
  if (typeof s === 'number') return s * 1000;
  let ms = 0;
  for (const [, n, u] of String(s || '').matchAll(/([\d.]+)(ns|us|µs|ms|s|m|h)/g)) {
    ms += parseFloat(n) * {ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 36e5}[u];
  }
  return ms;
}

async function api(path, opts) {
  const r = await fetch(path, Object.assign({credentials: 'same-origin'}, opts));
  if (r.status === 401) { showSignin(); throw new Error('signed out'); }
  const body = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error((body && body.error && body.error.message) || r.statusText);
  return body;
}

function showSignin() {
  if (S.es) { S.es.close(); S.es = null; }
  $('#app').hidden = true; $('#signout').hidden = true; $('#who').textContent = '';
  $('#signin').hidden = false;
  $('#signin-failed').hidden = new URLSearchParams(location.search).get('signin') !== 'failed';
  setLive(false);
}

async function boot() {
  const r = await fetch('/ui/api/session', {credentials: 'same-origin'});
  if (r.status !== 200) { showSignin(); return; }
  S.session = await r.json();
  S.offset = Date.parse(S.session.now) - Date.now();
  if (location.search) history.replaceState(null, '', '/');
  $('#signin').hidden = true; $('#app').hidden = false; $('#signout').hidden = false;
  $('#who').textContent = S.session.actor + (S.session.read_only ? ' (read-only)' : '');
  $('#who').dataset.readonly = S.session.read_only ? 'true' : 'false';
  await loadOverview();
  connect();
  setInterval(renderCountdowns, 1000);
  // The services' weights come from the daemon's route cache, which refreshes on its own: read it
  // again now and then, not only when a deployment changes.
  setInterval(() => later('services', 0, refreshServices), 5000);
}

async function loadOverview() {
  const ov = await api('/ui/api/overview');
  S.offset = Date.parse(ov.now) - Date.now();
  S.services = ov.services;
  S.history = ov.history;
  S.active = ov.active.map((d) => d.id);
  await Promise.all(ov.active.map((d) => loadDetail(d.id)));
  if (S.selected && !S.details[S.selected]) await loadDetail(S.selected);
  render();
}

async function loadDetail(id) {
  const det = await api('/ui/api/deployments/' + encodeURIComponent(id));
  S.details[id] = det;
  return det;
}

// later runs f once, delay ms after the last call with the same key: bursts of stream messages cost
// one read each.
function later(key, delay, f) {
  clearTimeout(S.timers[key]);
  S.timers[key] = setTimeout(() => { f().catch(() => {}); }, delay);
}

function setLive(on) {
  const el = $('#live');
  el.className = 'live ' + (on ? 'on' : 'off');
  el.textContent = on ? 'live' : 'offline';
}

function connect() {
  if (S.es) S.es.close();
  const es = new EventSource('/ui/stream');
  S.es = es;
  let first = true;
  es.addEventListener('hello', () => {
    setLive(true);
    if (!first) later('overview', 0, loadOverview); // reconnected: read everything again
    first = false;
  });
  es.addEventListener('deployment', (e) => onDeployment(JSON.parse(e.data)));
  es.addEventListener('event', (e) => onEvent(JSON.parse(e.data)));
  es.addEventListener('lagging', () => { es.close(); setLive(false); setTimeout(() => { connect(); later('overview', 0, loadOverview); }, 1000); });
  es.addEventListener('signout', () => { es.close(); showSignin(); });
  es.onerror = () => {
    setLive(false);
    if (es.readyState === EventSource.CLOSED) { // refused (401): is the session gone?
      setTimeout(() => boot().catch(() => {}), 2000);
    }
  };
}

function onDeployment(d) {
  const i = S.history.findIndex((x) => x.id === d.id);
  if (i >= 0) S.history[i] = d; else S.history.unshift(d);
  const det = S.details[d.id];
  if (det) {
    const old = det.deployment;
    // The stored record has no live guard states or route reads: keep the last ones until re-read.
    det.deployment = Object.assign({}, d, {guard: old.guard, live: old.live, analysis: d.analysis || old.analysis});
    const last = det.weights[det.weights.length - 1];
    if (!last || last.blue !== d.weights.blue || last.green !== d.weights.green) {
      det.weights.push({at: d.updated_at, blue: d.weights.blue, green: d.weights.green});
    }
  }
  const isActive = !['succeeded', 'rolled_back', 'failed'].includes(d.state);
  if (isActive && !S.active.includes(d.id)) {
    S.active.unshift(d.id);
    later('detail-' + d.id, 0, () => loadDetail(d.id).then(render));
  } else if (det) {
    later('detail-' + d.id, 1000, () => loadDetail(d.id).then(render));
  }
  if (!isActive && S.active.includes(d.id)) S.active = S.active.filter((x) => x !== d.id);
  later('services', 500, refreshServices);
  render();
}

async function refreshServices() {
  if (!S.session) return;
  S.services = (await api('/ui/api/overview')).services;
  renderServices();
}

function onEvent(e) {
  const det = S.details[e.deployment_id];
  if (!det || det.events.some((x) => x.seq === e.seq)) return;
  det.events.push(e);
  render();
}

function render() {
  renderServices();
  const box = $('#active');
  const cards = S.active.filter((id) => S.details[id]).map((id) => card(S.details[id]));
  box.replaceChildren(...(cards.length ? cards : [h('p', {class: 'muted', text: 'none'})]));
  const sel = S.selected && S.details[S.selected];
  $('#selected-section').hidden = !sel;
  $('#selected').replaceChildren(...(sel ? [card(sel, true)] : []));
  renderHistory();
}

function weightsBar(w, id) {
  const b = pct(w, 'blue'), g = pct(w, 'green');
  const blue = h('div', {class: 'blue', title: 'blue ' + fmtPct(b)});
  const green = h('div', {class: 'green', title: 'green ' + fmtPct(g)});
  blue.style.width = b + '%';
  green.style.width = g + '%';
  return h('div', {class: 'row'}, h('div', {class: 'bar'}, blue, green),
    h('span', {class: 'wtext', 'data-testid': 'weights-' + id, 'data-blue': w.blue, 'data-green': w.green},
      'blue ' + w.blue + ' (' + fmtPct(b) + ') / green ' + w.green + ' (' + fmtPct(g) + ')'));
}

function renderServices() {
  const rows = S.services.map((s) => {
    const w = s.routes && s.routes.length ? s.routes[0].weights : {blue: 0, green: 0};
    return h('tr', {'data-service': s.name},
      h('td', {text: s.name}),
      h('td', {text: s.live_slot || 'split'}),
      h('td', {}, weightsBar(w, 'service-' + s.name), s.routes && s.routes.length > 1 ? h('span', {class: 'muted', text: s.routes.length + ' routes'}) : null,
        s.error ? h('div', {class: 'error', text: s.error}) : null),
      h('td', {}, s.active_deployment ? h('button', {class: 'link', text: short(s.active_deployment), onclick: () => select(s.active_deployment)}) : h('span', {class: 'muted', text: '-'})),
      h('td', {class: 'muted', text: s.read_at ? Math.round(s.age_seconds) + 's ago' : ''}));
  });
  $('#services tbody').replaceChildren(...rows);
}

function renderHistory() {
  const rows = S.history.slice(0, 50).map((d) => h('tr', {class: 'click', 'data-id': d.id, onclick: () => select(d.id)},
    h('td', {text: short(d.id)}), h('td', {text: d.service}), h('td', {text: d.image_tag}),
    h('td', {}, h('span', {class: 'state ' + d.state, text: d.state})), h('td', {text: d.cause || ''}),
    h('td', {text: d.created_by}), h('td', {text: fmtTime(d.created_at)}), h('td', {text: fmtTime(d.finished_at)})));
  $('#history tbody').replaceChildren(...rows);
}

async function select(id) {
  S.selected = id;
  await loadDetail(id);
  render();
  $('#selected-section').scrollIntoView({block: 'start'});
}

function stepLabel(s) {
  const kind = s.kind || 'weight';
  let t = kind === 'weight' ? s.percent + '%' : kind;
  if (s.bake && parseDur(s.bake) > 0) t += ' · ' + s.bake;
  if (s.cron) t += ' · cron ' + s.cron; else if (s.at) t += ' · at ' + fmtTime(s.at);
  return t;
}

// bakeLeft is the time left in the current step's bake, from the daemon's clock, or null.
function bakeLeft(d) {
  const s = d.steps && d.steps[d.step];
  if (!s || d.state !== 'shifting' || !d.step_started_at || !s.bake) return null;
  return Date.parse(d.step_started_at) + parseDur(s.bake) - now();
}

function renderCountdowns() {
  for (const el of document.querySelectorAll('[data-bake-id]')) {
    const det = S.details[el.dataset.bakeId];
    const left = det && bakeLeft(det.deployment);
    el.textContent = left === null || left === undefined ? '' : 'bake: ' + fmtDur(left) + ' left';
  }
}

function card(det, selected) {
  const d = det.deployment;
  const active = !['succeeded', 'rolled_back', 'failed'].includes(d.state);
  const n = (d.steps || []).length;
  const steps = h('div', {class: 'steps'}, (d.steps || []).map((s, i) =>
    h('span', {class: 'step' + (i < d.step ? ' done' : '') + (i === d.step && active ? ' current' : ''), text: stepLabel(s)})));
  const left = bakeLeft(d);
  return h('div', {class: 'card', 'data-deployment': d.id, 'data-state': d.state},
    h('h3', {}, d.service + ' · ' + d.image_tag + ' ', h('span', {class: 'state ' + d.state, 'data-testid': 'state-' + d.id, text: d.state}),
      ' ', h('span', {class: 'muted', text: d.from + ' → ' + d.to + ' · ' + short(d.id) + ' · by ' + d.created_by})),
    weightsBar(d.weights, d.id),
    h('div', {class: 'row'}, h('span', {text: d.step >= 0 ? 'step ' + (d.step + 1) + '/' + n : 'before the first step'}), steps,
      h('span', {class: 'muted', 'data-bake-id': d.id, text: left === null ? '' : 'bake: ' + fmtDur(left) + ' left'})),
    d.reason ? h('div', {class: 'muted', text: 'reason: ' + d.reason + (d.cause ? ' (cause ' + d.cause + ')' : '')}) : null,
    guards(d), analysis(d),
    active && !S.session.read_only ? actions(d) : null,
    h('div', {class: 'row'}, weightsChart(det), analysisCharts(d)),
    h('details', {open: selected ? true : null}, h('summary', {text: 'audit trail (' + det.events.length + ')'}), eventsTable(det.events)));
}

function guards(d) {
  if (!d.guard || !d.guard.length) return null;
  return h('div', {class: 'row'}, h('span', {class: 'muted', text: 'guards:'}), d.guard.map((a) =>
    h('span', {class: a.state === 'OK' ? 'ok' : a.state === 'ALARM' ? 'alarm' : 'unknown', title: a.reason || '', text: a.name + ' ' + a.state})));
}

function analysis(d) {
  const a = d.analysis;
  if (!a) return null;
  return h('div', {class: 'row'}, h('span', {class: 'muted', text: 'analysis:'}), h('span', {class: a.verdict, text: a.verdict}),
    (a.metrics || []).map((m) => h('span', {class: m.verdict, title: m.why || m.last_error || '', text: m.name + ' ' + m.verdict})),
    a.why ? h('span', {class: 'muted', text: a.why}) : null);
}

function actions(d) {
  const can = {
    pause: ['pending', 'preparing', 'shifting'].includes(d.state),
    resume: d.state === 'paused',
    promote: ['shifting', 'paused'].includes(d.state),
    abort: true,
  };
  return h('div', {class: 'actions'}, ['pause', 'resume', 'promote', 'abort'].filter((a) => can[a]).map((a) =>
    h('button', {type: 'button', class: a === 'abort' ? 'danger' : '', 'data-action': a, 'data-id': d.id, text: a, onclick: () => confirmAction(d, a)})));
}

function confirmAction(d, action) {
  const dlg = $('#confirm');
  $('#confirm-title').textContent = action + ' ' + d.service + ' ' + d.image_tag + ' (' + short(d.id) + ')';
  $('#confirm-reason').value = '';
  $('#confirm-reason').required = action === 'abort';
  $('#confirm-reason').placeholder = action === 'abort' ? 'required: why' : 'optional';
  $('#confirm-error').hidden = true;
  dlg.dataset.id = d.id;
  dlg.dataset.action = action;
  dlg.showModal();
}

async function doAction(id, action, reason) {
  return api('/ui/api/deployments/' + encodeURIComponent(id) + '/' + action, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': S.session.csrf_token},
    body: JSON.stringify({reason}),
  });
}

function eventsTable(evs) {
  return h('table', {class: 'events'}, h('thead', {}, h('tr', {}, ['time', 'actor', 'action', 'state', 'reason', 'detail'].map((t) => h('th', {text: t})))),
    h('tbody', {}, evs.map((e) => h('tr', {'data-action': e.action},
      h('td', {text: fmtTime(e.time)}), h('td', {text: e.actor}), h('td', {text: e.action}), h('td', {text: e.state || ''}),
      h('td', {text: e.reason || ''}), h('td', {class: 'muted', text: Object.entries(e.detail || {}).map(([k, v]) => k + '=' + v).join(' ')})))));
}

// ---- charts: inline SVG ----

const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) if (c) el.append(c);
  return el;
}

// lineChart draws series [{cls, name, points: [[ms, value]]}] over [t0, t1] and [0, yMax]. step
// draws the values as held until the next point (weights).
function lineChart({title, series, yMax, yFmt, step, t1}) {
  const W = 360, H = 150, L = 40, R = 8, T = 18, B = 20;
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) return null;
  const t0 = Math.min(...pts.map((p) => p[0]));
  t1 = Math.max(t1 || 0, ...pts.map((p) => p[0]), t0 + 1000);
  yMax = yMax || Math.max(...pts.map((p) => p[1]), 1e-9) * 1.1;
  const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
  const y = (v) => T + (H - T - B) * (1 - v / yMax);
  const g = svg('svg', {class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title});
  g.append(svg('text', {x: L, y: 12}, document.createTextNode(title)));
  for (const f of [0, 0.5, 1]) {
    g.append(svg('line', {class: 'grid', x1: L, x2: W - R, y1: y(yMax * f), y2: y(yMax * f)}));
    g.append(svg('text', {x: 2, y: y(yMax * f) + 3}, document.createTextNode(yFmt(yMax * f))));
  }
  g.append(svg('text', {x: L, y: H - 4}, document.createTextNode(fmtTime(t0).slice(11))));
  g.append(svg('text', {x: W - R - 50, y: H - 4}, document.createTextNode(fmtTime(t1).slice(11))));
  for (const s of series) {
    if (!s.points.length) continue;
    let d = '';
    s.points.forEach(([t, v], i) => {
      if (i === 0) d += `M${x(t)},${y(v)}`;
      else d += (step ? `H${x(t)}V${y(v)}` : `L${x(t)},${y(v)}`);
    });
    if (step) d += `H${x(t1)}`;
    g.append(svg('path', {class: s.cls, d}, svg('title', {}, document.createTextNode(s.name))));
  }
  return g;
}

function weightsChart(det) {
  const d = det.deployment;
  const active = !['succeeded', 'rolled_back', 'failed'].includes(d.state);
  const pts = det.weights.map((p) => ({t: Date.parse(p.at), w: p}));
  return lineChart({
    title: 'traffic per colour (%)', step: true, yMax: 100, yFmt: (v) => Math.round(v) + '%',
    t1: active ? now() : Date.parse(d.finished_at || d.updated_at),
    series: ['blue', 'green'].map((c) => ({cls: 's-' + c, name: c, points: pts.map((p) => [p.t, pct(p.w, c)])})),
  });
}

// analysisCharts draws, per metric, each colour's error rate (errors judges) or latency (latency
// judges: the interval's p90), from the analysis points. The base is the live colour (d.from).
function analysisCharts(d) {
  const a = d.analysis;
  if (!a || !a.points || !a.points.length) return null;
  const byMetric = {};
  for (const p of a.points) (byMetric[p.metric] = byMetric[p.metric] || []).push(p);
  const judges = {};
  for (const m of ((d.spec && d.spec.analysis) || {}).metrics || []) judges[m.name] = m.judge;
  return Object.entries(byMetric).map(([metric, ps]) => {
    const latency = judges[metric] === 'latency';
    const val = (p, side) => latency ? p[side + '_value'] || 0 :
      (p[side + '_requests'] ? p[side + '_errors'] / p[side + '_requests'] : 0);
    return lineChart({
      title: metric + (latency ? ' latency p90 (s)' : ' error rate'),
      yFmt: latency ? (v) => v.toFixed(2) : (v) => (100 * v).toFixed(1) + '%',
      series: [
        {cls: 's-' + d.from, name: d.from + ' (live)', points: ps.map((p) => [Date.parse(p.at), val(p, 'base')])},
        {cls: 's-' + d.to, name: d.to + ' (new)', points: ps.map((p) => [Date.parse(p.at), val(p, 'canary')])},
      ],
    });
  });
}

document.addEventListener('DOMContentLoaded', () => {
  $('#signout').addEventListener('click', async () => {
    await fetch('/ui/logout', {method: 'POST', credentials: 'same-origin', headers: {'X-CSRF-Token': S.session ? S.session.csrf_token : ''}});
    S.session = null;
    showSignin();
  });
  $('#close-selected').addEventListener('click', () => { S.selected = null; render(); });
  $('#confirm-cancel').addEventListener('click', () => $('#confirm').close());
  $('#confirm-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const dlg = $('#confirm');
    try {
      await doAction(dlg.dataset.id, dlg.dataset.action, $('#confirm-reason').value);
      dlg.close();
      await loadDetail(dlg.dataset.id);
      render();
    } catch (e) {
      $('#confirm-error').textContent = e.message;
      $('#confirm-error').hidden = false;
    }
  });
  boot().catch((e) => console.error(e));
});
