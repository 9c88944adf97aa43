// A log that follows itself: /_tollgate/logs from where the last read ended, every 2 s.

import { h, onLeave, errorBox } from './dom.js';
import { csrfHeader } from './aws.js';

const EVERY_MS = 2000;
const KEEP_CHARS = 200000;

export function logTail(params, title) {
  const pre = h('pre', { class: 'log', 'data-log': params.kind }, '');
  const status = h('div', { class: 'muted' }, `${title}: waiting for lines…`);
  let from = null;
  let stopped = false;
  const read = async () => {
    const q = new URLSearchParams(params);
    if (from !== null) q.set('from', String(from));
    const r = await fetch(`/_tollgate/logs?${q}`, { headers: csrfHeader() });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) {
      status.replaceChildren(errorBox({ type: j.__type, message: j.message || r.statusText }));
      return;
    }
    from = j.next;
    if (j.text) {
      pre.textContent = (pre.textContent + j.text).slice(-KEEP_CHARS);
      pre.scrollTop = pre.scrollHeight;
      status.textContent = `${title}: following`;
    }
  };
  const loop = async () => {
    while (!stopped) {
      await read().catch((e) => status.replaceChildren(errorBox(e)));
      await new Promise((ok) => setTimeout(ok, EVERY_MS));
      // Replaced by another log, or its page left.
      if (!pre.isConnected) return;
    }
  };
  onLeave(() => { stopped = true; });
  loop();
  return h('div', {}, status, pre);
}

// A button that opens (once) a log tail in `into`.
export function logButton(label, params, into) {
  return h('button', {
    class: 'secondary',
    onclick: () => into.replaceChildren(logTail(params, label)),
  }, label);
}
