// Live figures from the gateway's /metrics (Prometheus text, fetched through the signed
// proxy): one poll every few seconds while a page shows any, shared by all its monitors.

import { h, onLeave } from './dom.js';
import { call } from './aws.js';
import { sparkline } from './chart.js';

const EVERY_MS = 3000;

// `name{k="v",...} value` lines into {name, labels, value}.
export function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

// Sums of a subject's series (every series of a stage: its methods or routes and canary).
export function totals(samples, match) {
  const t = { requests: 0, e4: 0, e5: 0, latSum: 0, latCount: 0, invocations: 0, errors: 0, durSum: 0, durCount: 0 };
  const key = {
    apigateway_requests_total: 'requests', apigateway_4xx_errors_total: 'e4', apigateway_5xx_errors_total: 'e5',
    apigateway_latency_seconds_sum: 'latSum', apigateway_latency_seconds_count: 'latCount',
    apigateway_websocket_messages_total: 'requests', apigateway_websocket_client_errors_total: 'e4',
    lambda_invocations_total: 'invocations', lambda_errors_total: 'errors',
    lambda_duration_seconds_sum: 'durSum', lambda_duration_seconds_count: 'durCount',
  };
  for (const s of samples) {
    const k = key[s.name];
    if (k && Object.entries(match).every(([l, v]) => s.labels[l] === v)) t[k] += s.value;
  }
  return t;
}

const listeners = new Set();
let timer = null;

async function poll() {
  try {
    const r = await call('apigateway', 'GET', '/metrics', { headers: { accept: 'text/plain' } });
    const samples = parse(r.text);
    const at = performance.now();
    listeners.forEach((f) => f(samples, at));
  } catch (e) {
    listeners.forEach((f) => f(null, 0, e));
  }
}

function subscribe(f) {
  listeners.add(f);
  if (!timer) {
    poll();
    timer = setInterval(poll, EVERY_MS);
  }
  onLeave(() => {
    listeners.delete(f);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = null;
    }
  });
}

function stat(label, cls) {
  const b = h('b', { class: cls }, '–');
  return [h('div', { class: 'stat' }, b, h('span', {}, label)), b];
}

// Request count, rate, error rate and latency of one API stage, live.
export function stageMonitor(apiId, stage) {
  const [count, countEl] = stat('requests', 'm-requests');
  const [rate, rateEl] = stat('requests/s', 'm-rate');
  const [errors, errorsEl] = stat('4xx / 5xx', 'm-errors');
  const [errRate, errRateEl] = stat('error rate', 'm-error-rate');
  const [lat, latEl] = stat('mean latency', 'm-latency');
  const spark = h('div');
  const history = [];
  let last = null;
  subscribe((samples, at, err) => {
    if (!samples) {
      countEl.textContent = '?';
      countEl.title = err.message;
      return;
    }
    const t = totals(samples, { api_id: apiId, stage });
    countEl.textContent = String(t.requests);
    errorsEl.textContent = `${t.e4} / ${t.e5}`;
    if (last) {
      const dt = (at - last.at) / 1000;
      const dr = t.requests - last.t.requests;
      const de = t.e4 + t.e5 - (last.t.e4 + last.t.e5);
      const dl = t.latSum - last.t.latSum;
      const dc = t.latCount - last.t.latCount;
      const r = dt > 0 ? dr / dt : 0;
      history.push(r);
      if (history.length > 40) history.shift();
      rateEl.textContent = r.toFixed(2);
      errRateEl.textContent = dr > 0 ? `${((100 * de) / dr).toFixed(1)}%` : '0%';
      const meanMs = dc > 0 ? (1000 * dl) / dc : (t.latCount ? (1000 * t.latSum) / t.latCount : 0);
      latEl.textContent = `${meanMs.toFixed(1)} ms`;
      spark.replaceChildren(sparkline(history));
    } else {
      latEl.textContent = t.latCount ? `${((1000 * t.latSum) / t.latCount).toFixed(1)} ms` : '–';
    }
    last = { t, at };
  });
  return h('div', { class: 'stats', 'data-stage': stage }, count, rate, errors, errRate, lat, spark);
}

// Invocations, errors and mean duration of a function (every version), live.
export function functionMonitor(name) {
  const [inv, invEl] = stat('invocations', 'm-invocations');
  const [errs, errsEl] = stat('errors', 'm-function-errors');
  const [dur, durEl] = stat('mean duration', 'm-duration');
  subscribe((samples) => {
    if (!samples) return;
    const t = totals(samples, { function_name: name });
    invEl.textContent = String(t.invocations);
    errsEl.textContent = String(t.errors);
    durEl.textContent = t.durCount ? `${((1000 * t.durSum) / t.durCount).toFixed(1)} ms` : '–';
  });
  return h('div', { class: 'stats' }, inv, errs, dur);
}
