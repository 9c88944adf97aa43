// The landing page: every API, REST, HTTP and WebSocket, by name.

import { h, section, table, when } from './dom.js';
import { apigw } from './aws.js';

export async function landing() {
  const [rest, v2] = await Promise.all([
    apigw('GET', '/restapis', { query: 'limit=500' }),
    apigw('GET', '/v2/apis', { query: 'maxResults=500' }),
  ]);
  const apis = [
    ...(rest.item || []).map((a) => ({ id: a.id, name: a.name, kind: 'REST', link: `#/rest/${a.id}`, created: a.createdDate, description: a.description })),
    ...(v2.items || []).map((a) => ({ id: a.apiId, name: a.name, kind: a.protocolType, link: `#/v2/${a.apiId}`, created: a.createdDate, description: a.description })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  if (!apis.length) {
    return section('APIs', h('p', { class: 'muted' }, 'No APIs yet: create one with the aws CLI or tollgate sam.'));
  }
  return section(`APIs (${apis.length})`,
    table(['Name', 'Kind', 'ID', 'Created', 'Description'],
      apis.map((a) => [h('a', { href: a.link, class: 'api-link' }, a.name), a.kind, a.id, when(a.created), a.description || ''])));
}
