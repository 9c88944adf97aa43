// A REST API: its resources tree with methods and integrations, authorizers, stages and
// deployments, and the test panel.

import { h, section, table } from './dom.js';
import { apigw } from './aws.js';
import { stagesSection } from './stages.js';
import { testPanel } from './test_invoke.js';

function integration(m) {
  const i = m.methodIntegration;
  if (!i) return 'no integration';
  return `${i.type}${i.httpMethod && i.type !== 'MOCK' ? ` ${i.httpMethod}` : ''}${i.uri ? ` ${i.uri}` : ''}`;
}

function tree(resources) {
  return h('ul', { class: 'tree' }, resources.map((r) => {
    const depth = r.path === '/' ? 0 : r.path.split('/').length - 1;
    const methods = Object.entries(r.resourceMethods || {}).sort(([a], [b]) => a.localeCompare(b));
    return h('li', { style: { paddingLeft: `${depth * 18}px` }, 'data-path': r.path },
      h('code', {}, r.path), ' ',
      methods.map(([verb, m]) => h('span', { class: 'method', title: integration(m) },
        h('span', { class: 'verb' }, verb),
        ` · ${m.authorizationType || 'NONE'}${m.authorizerId ? ` (${m.authorizerId})` : ''}${m.apiKeyRequired ? ' · API key' : ''} · ${integration(m)}`)));
  }));
}

export async function restApiPage(id) {
  const [api, resources, authorizers, stages, deployments] = await Promise.all([
    apigw('GET', `/restapis/${id}`),
    apigw('GET', `/restapis/${id}/resources`, { query: 'embed=methods&limit=500' }),
    apigw('GET', `/restapis/${id}/authorizers`, { query: 'limit=500' }),
    apigw('GET', `/restapis/${id}/stages`),
    apigw('GET', `/restapis/${id}/deployments`, { query: 'limit=500' }),
  ]);
  const res = (resources.item || []).sort((a, b) => a.path.localeCompare(b.path));
  const auths = authorizers.item || [];
  const methods = res.flatMap((r) => Object.keys(r.resourceMethods || {}).sort().map((verb) => ({ resource: r, verb })));
  return h('div', {},
    h('h1', {}, api.name, h('span', { class: 'muted' }, ` REST API ${api.id}`)),
    api.description ? h('p', {}, api.description) : null,
    section('Resources', tree(res)),
    section('Authorizers', auths.length
      ? table(['Name', 'Type', 'ID', 'Identity source', 'Authorizer'], auths.map((a) => [a.name, a.type, a.id, a.identitySource || '', a.authorizerUri || (a.providerARNs || []).join(', ')]))
      : h('p', { class: 'muted' }, 'None.')),
    stagesSection('rest', id, stages.item || [], deployments.item || []),
    testPanel(id, methods));
}
