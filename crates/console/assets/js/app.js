// The console's entry: who we are (or the login form), then one page per location hash.

import { h, errorBox, leave, takeFlash } from './dom.js';
import { setCsrf, csrfHeader } from './aws.js';
import { loginPage } from './login.js';
import { landing } from './landing.js';
import { restApiPage } from './rest_api.js';
import { httpApiPage } from './http_api.js';
import { functionsPage, functionPage } from './functions.js';
import { keysPage } from './keys.js';

const routes = [
  [/^#?\/?$/, landing],
  [/^#\/rest\/([A-Za-z0-9]+)$/, restApiPage],
  [/^#\/v2\/([A-Za-z0-9]+)$/, httpApiPage],
  [/^#\/functions$/, functionsPage],
  [/^#\/functions\/([^/]+)$/, (n) => functionPage(decodeURIComponent(n))],
  [/^#\/keys$/, keysPage],
];

const main = document.getElementById('main');

async function render() {
  leave();
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  const hash = location.hash || '#/';
  const route = routes.find(([re]) => re.test(hash));
  if (!route) {
    main.replaceChildren(h('p', {}, 'No such page.'));
    return;
  }
  try {
    const page = await route[1](...hash.match(route[0]).slice(1));
    const note = takeFlash();
    main.replaceChildren(...(note ? [h('p', { class: 'flash', role: 'status' }, note)] : []), page);
  } catch (e) {
    if (e.status === 401) {
      location.reload();
      return;
    }
    main.replaceChildren(errorBox(e));
  }
}

async function logout() {
  await fetch('/_tollgate/logout', { method: 'POST', headers: csrfHeader() });
  location.reload();
}

async function start() {
  const r = await fetch('/_tollgate/session', { headers: { accept: 'application/json' } });
  if (r.status === 401) {
    main.replaceChildren(loginPage());
    return;
  }
  const who = await r.json();
  setCsrf(who.csrf);
  const label = who.mode === 'loopback' ? `${who.accessKeyId} (loopback)` : who.accessKeyId;
  document.getElementById('who').replaceChildren(label,
    who.mode === 'session' ? h('button', { class: 'secondary', onclick: logout }, 'Log out') : '');
  window.addEventListener('hashchange', render);
  render();
}

start().catch((e) => main.replaceChildren(errorBox(e)));
