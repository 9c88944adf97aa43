// The AWS API, as the CLI calls it: each call goes to /_tollgate/aws, which signs it with
// this session's credentials. The CSRF token comes from /_tollgate/session.

let csrf = '';
export function setCsrf(token) { csrf = token; }
export function csrfHeader() { return { 'x-tollgate-csrf': csrf }; }

export class AwsError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

function parse(text) {
  try { return JSON.parse(text); } catch { return null; }
}

export async function call(service, method, path, { query, body, headers } = {}) {
  const payload = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
  const r = await fetch('/_tollgate/aws', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...csrfHeader() },
    body: JSON.stringify({ service, method, path, query, body: payload, headers }),
  });
  const text = await r.text();
  if (!r.ok) {
    const j = parse(text) || {};
    const type = (r.headers.get('x-amzn-errortype') || j.__type || '').split(':')[0];
    throw new AwsError(r.status, type, j.message || j.Message || text || r.statusText);
  }
  return { status: r.status, headers: r.headers, text, json: text ? parse(text) : null };
}

export const apigw = (method, path, opts) => call('apigateway', method, path, opts).then((r) => r.json || {});
export const lambda = (method, path, opts) => call('lambda', method, path, opts);
export const seg = encodeURIComponent;
