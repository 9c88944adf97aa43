// SVG charts: bars (usage per day) and a sparkline (request rate).

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export function bars(values, labels, { width = 420, height = 140, title = '' } = {}) {
  const root = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const t = svg('title', {});
  t.textContent = title;
  root.append(t);
  const max = Math.max(1, ...values);
  const pad = 18;
  const w = (width - 2 * pad) / Math.max(1, values.length);
  values.forEach((v, i) => {
    const bh = ((height - 2 * pad) * v) / max;
    const x = pad + i * w;
    root.append(svg('rect', { x: x + 2, y: height - pad - bh, width: Math.max(1, w - 4), height: bh, fill: '#2463c7' }));
    const n = svg('text', { x: x + w / 2, y: height - pad - bh - 3, 'text-anchor': 'middle', 'font-size': 10 });
    n.textContent = String(v);
    const l = svg('text', { x: x + w / 2, y: height - 4, 'text-anchor': 'middle', 'font-size': 9, fill: '#6b7384' });
    l.textContent = labels[i] || '';
    root.append(n, l);
  });
  return root;
}

export function sparkline(values, { width = 160, height = 34 } = {}) {
  const root = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}` });
  if (values.length < 2) return root;
  const max = Math.max(1e-9, ...values);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - ((height - 4) * v) / max).toFixed(1)}`);
  root.append(svg('polyline', { points: points.join(' '), fill: 'none', stroke: '#2463c7', 'stroke-width': 1.5 }));
  return root;
}
