// Stages and deployments of an API (REST or v2): deploy, roll back, canary percentage, the
// live figures of each stage and its log tails.

import { h, section, table, when, field, act, flash, rerender } from './dom.js';
import { apigw, seg } from './aws.js';
import { stageMonitor } from './metrics.js';
import { logButton } from './logs.js';

// How the two API generations spell the same things.
const KIND = {
  rest: {
    base: (id) => `/restapis/${id}`,
    deploymentId: (d) => d.id,
    async deploy(id, stageName, description, canaryPercent) {
      const body = { stageName, description: description || undefined };
      if (canaryPercent !== null) body.canarySettings = { percentTraffic: canaryPercent };
      return (await apigw('POST', `/restapis/${id}/deployments`, { body })).id;
    },
    async point(id, stage, deploymentId) {
      await apigw('PATCH', `/restapis/${id}/stages/${seg(stage)}`,
        { body: { patchOperations: [{ op: 'replace', path: '/deploymentId', value: deploymentId }] } });
    },
  },
  v2: {
    base: (id) => `/v2/apis/${id}`,
    deploymentId: (d) => d.deploymentId,
    async deploy(id, stageName, description, _canary, stages) {
      const d = await apigw('POST', `/v2/apis/${id}/deployments`, { body: { description: description || undefined } });
      if (stages.some((s) => s.stageName === stageName)) {
        await apigw('PATCH', `/v2/apis/${id}/stages/${seg(stageName)}`, { body: { deploymentId: d.deploymentId } });
      } else {
        await apigw('POST', `/v2/apis/${id}/stages`, { body: { stageName, deploymentId: d.deploymentId } });
      }
      return d.deploymentId;
    },
    async point(id, stage, deploymentId) {
      await apigw('PATCH', `/v2/apis/${id}/stages/${seg(stage)}`, { body: { deploymentId } });
    },
  },
};

function deployForm(kind, apiId, stages) {
  const k = KIND[kind];
  const stage = h('input', { id: 'deploy-stage', name: 'stageName', value: (stages[0] && stages[0].stageName) || 'prod', required: true });
  const description = h('input', { name: 'description', placeholder: 'optional' });
  const canary = h('input', { type: 'number', name: 'canaryPercent', min: 0, max: 100, step: 'any', placeholder: 'no canary' });
  const out = h('span', { id: 'deploy-result' });
  const submit = (ev) => {
    ev.preventDefault();
    act(out, async () => {
      const pct = canary.value === '' ? null : Number(canary.value);
      const id = await k.deploy(apiId, stage.value, description.value, pct, stages);
      flash(`Deployed ${id} to ${stage.value}${pct !== null ? ` as a canary (${pct}%)` : ''}.`);
      rerender();
      return `Deployed ${id}.`;
    });
  };
  return h('form', { onsubmit: submit },
    field('Stage', stage), field('Description', description),
    kind === 'rest' ? field('Canary %', canary) : null,
    h('button', { type: 'submit', id: 'deploy' }, 'Deploy'), out);
}

function canaryControls(apiId, s) {
  const c = s.canarySettings;
  if (!c) return null;
  const pct = h('input', { type: 'number', min: 0, max: 100, step: 'any', value: c.percentTraffic ?? 0 });
  const out = h('span');
  const patch = (ops, said) => act(out, async () => {
    await apigw('PATCH', `/restapis/${apiId}/stages/${seg(s.stageName)}`, { body: { patchOperations: ops } });
    flash(said);
    rerender();
  });
  return h('div', { class: 'row' },
    h('span', {}, `Canary: deployment ${c.deploymentId}, ${c.percentTraffic ?? 0}% of requests`),
    field('Canary %', pct),
    h('button', { class: 'secondary', onclick: () => patch([{ op: 'replace', path: '/canarySettings/percentTraffic', value: String(pct.value) }], `Canary of ${s.stageName} at ${pct.value}%.`) }, 'Set'),
    h('button', { class: 'secondary', onclick: () => patch([{ op: 'replace', path: '/deploymentId', value: c.deploymentId }, { op: 'remove', path: '/canarySettings' }], `Canary of ${s.stageName} promoted.`) }, 'Promote'),
    h('button', { class: 'secondary', onclick: () => patch([{ op: 'remove', path: '/canarySettings' }], `Canary of ${s.stageName} removed.`) }, 'Remove'),
    out);
}

function stageCard(kind, apiId, s, deployments) {
  const k = KIND[kind];
  const others = deployments.filter((d) => k.deploymentId(d) !== s.deploymentId);
  const pick = h('select', {}, others.map((d) => h('option', { value: k.deploymentId(d) }, `${k.deploymentId(d)} (${when(d.createdDate)})${d.description ? ` ${d.description}` : ''}`)));
  const out = h('span');
  const logs = h('div');
  const rollBack = () => act(out, async () => {
    await k.point(apiId, s.stageName, pick.value);
    flash(`${s.stageName} now serves ${pick.value}.`);
    rerender();
  });
  return h('div', { class: 'card stage', 'data-stage': s.stageName },
    h('h3', {}, s.stageName, h('span', { class: 'muted' }, ` serves ${s.deploymentId || 'nothing'}, updated ${when(s.lastUpdatedDate || s.createdDate)}`)),
    stageMonitor(apiId, s.stageName),
    kind === 'rest' ? canaryControls(apiId, s) : null,
    others.length ? h('div', { class: 'row' }, field('Roll back to', pick), h('button', { class: 'secondary', onclick: rollBack }, 'Roll back'), out) : null,
    h('div', { class: 'row' },
      logButton('Access log', { kind: 'access', api: apiId, stage: s.stageName }, logs),
      kind === 'rest' ? logButton('Execution log', { kind: 'execution', api: apiId, stage: s.stageName }, logs) : null),
    logs);
}

export function stagesSection(kind, apiId, stages, deployments) {
  const k = KIND[kind];
  const sorted = [...deployments].sort((a, b) => String(b.createdDate).localeCompare(String(a.createdDate)));
  return [
    section('Deploy', deployForm(kind, apiId, stages)),
    section('Stages', stages.length
      ? h('div', { class: 'cards' }, stages.map((s) => stageCard(kind, apiId, s, sorted)))
      : h('p', { class: 'muted' }, 'No stages yet: deploy to create one.')),
    section('Deployments', table(['ID', 'Created', 'Description', 'Stages'],
      sorted.map((d) => [k.deploymentId(d), when(d.createdDate), d.description || '',
        stages.filter((s) => s.deploymentId === k.deploymentId(d)).map((s) => s.stageName).join(', ')]))),
  ];
}
