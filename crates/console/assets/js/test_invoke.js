// The test panel: TestInvokeMethod on a method, with AWS's execution log.

import { h, section, field, errorBox } from './dom.js';
import { apigw } from './aws.js';

// `Name: value` lines into a map.
function headerLines(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function testPanel(apiId, methods) {
  if (!methods.length) return section('Test', h('p', { class: 'muted' }, 'No methods to test.'));
  const pick = h('select', { id: 'test-method' }, methods.map((m, i) => h('option', { value: i }, `${m.verb} ${m.resource.path}`)));
  const path = h('input', { id: 'test-path', size: 40, value: methods[0].resource.path });
  const query = h('input', { id: 'test-query', placeholder: 'a=1&b=2' });
  const headers = h('textarea', { id: 'test-headers', placeholder: 'Accept: application/json' });
  const body = h('textarea', { id: 'test-body-in', placeholder: 'request body' });
  pick.addEventListener('change', () => { path.value = methods[pick.value].resource.path; });
  const status = h('div', { id: 'test-status' });
  const responseBody = h('pre', { id: 'test-response' });
  const log = h('pre', { id: 'test-log' });
  const run = async (ev) => {
    ev.preventDefault();
    const m = methods[pick.value];
    status.replaceChildren(h('span', { class: 'muted' }, 'Running…'));
    try {
      const pathWithQueryString = query.value ? `${path.value}?${query.value}` : path.value;
      const r = await apigw('POST', `/restapis/${apiId}/resources/${m.resource.id}/methods/${m.verb}`, {
        body: { pathWithQueryString, headers: headerLines(headers.value), body: body.value || undefined },
      });
      status.replaceChildren(h('span', { class: r.status < 400 ? 'ok' : 'error' }, `Status ${r.status}`), h('span', { class: 'muted' }, ` in ${r.latency} ms`));
      responseBody.textContent = r.body || '';
      log.textContent = r.log || '';
    } catch (e) {
      status.replaceChildren(errorBox(e));
    }
  };
  return section('Test a method',
    h('form', { onsubmit: run },
      field('Method', pick), field('Path', path), field('Query string', query),
      field('Headers', headers), field('Body', body),
      h('button', { type: 'submit', id: 'test-run' }, 'Test')),
    status,
    h('h3', {}, 'Response body'), responseBody,
    h('h3', {}, 'Log'), log);
}
