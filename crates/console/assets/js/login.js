// The login form: beyond loopback the console acts with the access key and secret given
// here (kept on the server, behind an HttpOnly session cookie).

import { h, errorBox, field } from './dom.js';

export function loginPage() {
  const key = h('input', { name: 'accessKeyId', autocomplete: 'username', required: true });
  const secret = h('input', { name: 'secretAccessKey', type: 'password', autocomplete: 'current-password', required: true });
  const out = h('div');
  const submit = async (ev) => {
    ev.preventDefault();
    const r = await fetch('/_tollgate/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessKeyId: key.value, secretAccessKey: secret.value }),
    });
    if (r.ok) {
      location.reload();
      return;
    }
    const j = await r.json().catch(() => ({}));
    out.replaceChildren(errorBox({ type: j.__type, message: j.message || r.statusText }));
  };
  return h('section', { class: 'login' },
    h('h2', {}, 'Log in to Tollgate'),
    h('p', { class: 'muted' }, 'Use an access key the gateway accepts (the one given to tollgate serve, or an IAM user\'s).'),
    h('form', { onsubmit: submit },
      field('Access key ID', key),
      field('Secret access key', secret),
      h('button', { type: 'submit' }, 'Log in')),
    out);
}
