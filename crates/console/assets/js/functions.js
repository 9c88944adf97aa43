// Lambda functions: the list, and a function's configuration, live figures, invoke panel
// and log.

import { h, section, table, field, errorBox, when } from './dom.js';
import { lambda, seg } from './aws.js';
import { functionMonitor } from './metrics.js';
import { logTail } from './logs.js';

export async function functionsPage() {
  const r = await lambda('GET', '/2015-03-31/functions', { query: 'MaxItems=500' });
  const fns = (r.json.Functions || []).sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
  return section(`Functions (${fns.length})`, fns.length
    ? table(['Name', 'Runtime', 'Handler', 'Memory', 'Timeout', 'Modified'], fns.map((f) => [
      h('a', { href: `#/functions/${seg(f.FunctionName)}` }, f.FunctionName), f.Runtime || f.PackageType || '',
      f.Handler || '', `${f.MemorySize} MB`, `${f.Timeout} s`, when(f.LastModified)]))
    : h('p', { class: 'muted' }, 'No functions yet.'));
}

// Lambda's `X-Amz-Log-Result`: the last 4 KB of the invocation's log, base64.
function decodeLog(b64) {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return '';
  }
}

function invokePanel(name) {
  const payload = h('textarea', { id: 'invoke-payload' }, '{}');
  const status = h('div');
  const out = h('pre', { id: 'invoke-result' });
  const log = h('pre', { id: 'invoke-log' });
  const run = async (ev) => {
    ev.preventDefault();
    status.replaceChildren(h('span', { class: 'muted' }, 'Invoking…'));
    try {
      const r = await lambda('POST', `/2015-03-31/functions/${seg(name)}/invocations`, {
        body: payload.value, headers: { 'x-amz-log-type': 'Tail', 'content-type': 'application/json' },
      });
      const failed = r.headers.get('x-amz-function-error');
      status.replaceChildren(h('span', { class: failed ? 'error' : 'ok' }, failed ? `Function error: ${failed}` : `Status ${r.status}`));
      out.textContent = r.text;
      log.textContent = decodeLog(r.headers.get('x-amz-log-result') || '');
    } catch (e) {
      status.replaceChildren(errorBox(e));
    }
  };
  return section('Invoke',
    h('form', { onsubmit: run }, field('Payload (JSON)', payload), h('button', { type: 'submit', id: 'invoke-run' }, 'Invoke')),
    status, h('h3', {}, 'Result'), out, h('h3', {}, 'Log tail'), log);
}

export async function functionPage(name) {
  const r = await lambda('GET', `/2015-03-31/functions/${seg(name)}`);
  const c = r.json.Configuration || {};
  const env = (c.Environment && c.Environment.Variables) || {};
  return h('div', {},
    h('h1', {}, c.FunctionName, h('span', { class: 'muted' }, ` ${c.Runtime || c.PackageType || ''}`)),
    section('Configuration', table(['Setting', 'Value'], [
      ['ARN', c.FunctionArn], ['Handler', c.Handler || ''], ['Memory', `${c.MemorySize} MB`], ['Timeout', `${c.Timeout} s`],
      ['Version', c.Version], ['Code size', `${c.CodeSize} bytes`], ['Modified', when(c.LastModified)],
      ['Environment', Object.keys(env).join(', ') || 'none'],
    ])),
    section('Invocations', functionMonitor(c.FunctionName)),
    invokePanel(c.FunctionName),
    section('Log', logTail({ kind: 'function', function: c.FunctionName }, 'Function log')));
}
