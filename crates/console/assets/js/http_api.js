// An HTTP or WebSocket API: routes with their integrations and authorizers, stages and
// deployments.

import { h, section, table } from './dom.js';
import { apigw } from './aws.js';
import { stagesSection } from './stages.js';

export async function httpApiPage(id) {
  const get = (what) => apigw('GET', `/v2/apis/${id}${what}`, { query: what ? 'maxResults=500' : undefined });
  const [api, routes, integrations, authorizers, stages, deployments] = await Promise.all(
    ['', '/routes', '/integrations', '/authorizers', '/stages', '/deployments'].map(get));
  const byId = Object.fromEntries((integrations.items || []).map((i) => [i.integrationId, i]));
  const auths = Object.fromEntries((authorizers.items || []).map((a) => [a.authorizerId, a]));
  const target = (r) => {
    const i = byId[(r.target || '').replace(/^integrations\//, '')];
    if (!i) return r.target || 'no integration';
    return `${i.integrationType}${i.integrationMethod ? ` ${i.integrationMethod}` : ''}${i.integrationUri ? ` ${i.integrationUri}` : ''}`;
  };
  const rows = (routes.items || []).sort((a, b) => a.routeKey.localeCompare(b.routeKey)).map((r) => [
    h('code', {}, r.routeKey),
    `${r.authorizationType || 'NONE'}${r.authorizerId && auths[r.authorizerId] ? ` (${auths[r.authorizerId].name})` : ''}${r.apiKeyRequired ? ' · API key' : ''}`,
    target(r),
  ]);
  return h('div', {},
    h('h1', {}, api.name, h('span', { class: 'muted' }, ` ${api.protocolType} API ${api.apiId}`)),
    api.apiEndpoint ? h('p', {}, 'Endpoint: ', h('code', {}, api.apiEndpoint)) : null,
    section('Routes', rows.length ? table(['Route', 'Authorization', 'Integration'], rows) : h('p', { class: 'muted' }, 'None.')),
    section('Authorizers', (authorizers.items || []).length
      ? table(['Name', 'Type', 'ID', 'Identity source', 'Issuer / function'], authorizers.items.map((a) => [
        a.name, a.authorizerType, a.authorizerId, (a.identitySource || []).join(', '),
        (a.jwtConfiguration && a.jwtConfiguration.issuer) || a.authorizerUri || '']))
      : h('p', { class: 'muted' }, 'None.')),
    stagesSection('v2', id, stages.items || [], deployments.items || []));
}
