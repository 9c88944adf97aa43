// Small DOM helpers: every text goes in as a text node, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    // Through the CSSOM: the CSP refuses inline style attributes.
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

export function section(title, ...body) {
  return h('section', {}, h('h2', {}, title), ...body);
}

export function errorBox(e) {
  const text = e && e.type ? `${e.type}: ${e.message}` : String((e && e.message) || e);
  return h('p', { class: 'error', role: 'alert' }, text);
}

// AWS's dates: epoch seconds (API Gateway v1, in JSON) or ISO strings.
export function when(t) {
  if (t === undefined || t === null || t === '') return '';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

export function field(label, input) {
  return h('label', {}, label, input);
}

// Runs `action` from a button, showing its error (or result text) in `out`.
export async function act(out, action) {
  out.replaceChildren(h('span', { class: 'muted' }, 'Working…'));
  try {
    const said = await action();
    out.replaceChildren(h('span', { class: 'ok' }, said || 'Done.'));
  } catch (e) {
    out.replaceChildren(errorBox(e));
  }
}

// Cleanups (timers, subscriptions) of the page shown now, run when another is shown.
let leaving = [];
export function onLeave(f) { leaving.push(f); }
export function leave() { leaving.forEach((f) => f()); leaving = []; }

// A message shown at the top of the next page rendered.
let pending = null;
export function flash(text) { pending = text; }
export function takeFlash() { const t = pending; pending = null; return t; }

export function rerender() { window.dispatchEvent(new HashChangeEvent('hashchange')); }
