// API keys, usage plans, and each plan's usage per key over the last week as charts.

import { h, section, table, when } from './dom.js';
import { apigw } from './aws.js';
import { bars } from './chart.js';

const DAYS = 7;

function day(offset) {
  const d = new Date(Date.now() + offset * 86400000);
  return d.toISOString().slice(0, 10);
}

async function planUsage(plan, names) {
  const [usage, keys] = await Promise.all([
    apigw('GET', `/usageplans/${plan.id}/usage`, { query: `startDate=${day(1 - DAYS)}&endDate=${day(0)}` }),
    apigw('GET', `/usageplans/${plan.id}/keys`, { query: 'limit=500' }),
  ]);
  const labels = Array.from({ length: DAYS }, (_, i) => day(1 - DAYS + i).slice(5));
  // GetUsage's wire name is `values` (the CLI shows it as `items`).
  const perKey = usage.values || {};
  const charts = (keys.item || []).map((k) => {
    const used = (perKey[k.id] || []).map((pair) => pair[0]);
    while (used.length < DAYS) used.unshift(0);
    return h('div', { class: 'card' },
      h('h3', {}, names[k.id] || k.name || k.id, h('span', { class: 'muted' }, ` requests per day, ${used.reduce((a, b) => a + b, 0)} in ${DAYS} days`)),
      bars(used.slice(-DAYS), labels, { title: `Usage of ${k.name || k.id}` }));
  });
  const quota = plan.quota ? `${plan.quota.limit} per ${plan.quota.period}` : 'no quota';
  const throttle = plan.throttle ? `${plan.throttle.rateLimit}/s, burst ${plan.throttle.burstLimit}` : 'no throttle';
  return section(`Usage plan ${plan.name}`,
    h('p', { class: 'muted' }, `${plan.id} · ${quota} · ${throttle} · stages: ${(plan.apiStages || []).map((s) => `${s.apiId}/${s.stage}`).join(', ') || 'none'}`),
    charts.length ? h('div', { class: 'cards' }, charts) : h('p', { class: 'muted' }, 'No keys in this plan.'));
}

export async function keysPage() {
  const [keys, plans] = await Promise.all([
    apigw('GET', '/apikeys', { query: 'limit=500' }),
    apigw('GET', '/usageplans', { query: 'limit=500' }),
  ]);
  const items = keys.item || [];
  const names = Object.fromEntries(items.map((k) => [k.id, k.name]));
  const usage = await Promise.all((plans.item || []).map((p) => planUsage(p, names)));
  return h('div', {},
    section(`API keys (${items.length})`, items.length
      ? table(['Name', 'ID', 'Enabled', 'Created'], items.map((k) => [k.name, k.id, k.enabled ? 'yes' : 'no', when(k.createdDate)]))
      : h('p', { class: 'muted' }, 'No API keys.')),
    usage.length ? usage : section('Usage plans', h('p', { class: 'muted' }, 'No usage plans.')));
}
