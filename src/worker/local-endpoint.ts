// A local Caliper endpoint (the Sensor API) on loopback, for `npm start` with SINK=caliper-http and no
// CALIPER_ENDPOINT_URL: it checks what a strict endpoint checks — the bearer token (401), the media
// type (415), the JSON and each event with our validator in the output format (400) — and keeps every
// event it accepted, as a one-event envelope, for the summary. In OAuth mode (LOCAL_ENDPOINT_AUTH=oauth)
// it is its own OAuth 2.0 token endpoint too (POST /token, client credentials by HTTP Basic or in the
// body) and takes only the tokens it issued, each for `lifetimeS` seconds: a run outlives several.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateEnvelope } from '../caliper/validate.js';
import { serializeEnvelope, type Format } from '../formats/index.js';
import { isPlainObject } from '../json.js';

export interface LocalEndpoint {
  url: string;
  /** Every event accepted, as the text of a one-event envelope, in arrival order. */
  records: string[];
  /** Requests answered, by status. */
  statuses: Map<number, number>;
  /** OAuth mode: how many tokens the token endpoint (`/token`) issued. */
  tokensIssued: number;
  stop(): Promise<void>;
}

/** OAuth mode: the one client the token endpoint knows, and how long its tokens live. */
export interface LocalOAuth {
  clientId: string;
  clientSecret: string;
  lifetimeS: number;
}

/** The client id and secret a token request carries: HTTP Basic (each form-urlencoded, RFC 6749 §2.3.1) or the body's. */
export function clientOf(authorization: string | undefined, form: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
  if (!basic) return { id: form.get('client_id') ?? undefined, secret: form.get('client_secret') ?? undefined };
  const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  const colon = text.indexOf(':');
  try {
    return colon < 0 ? {} : { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) };
  } catch {
    return {};
  }
}

/** Why an envelope is refused (400), or undefined: each of its events must be valid in `format`. */
export function envelopeProblem(value: unknown, format: Format): string | undefined {
  if (!isPlainObject(value) || !Array.isArray(value.data) || value.data.length === 0) return 'not a Caliper envelope with events in data';
  const { data, ...header } = value;
  for (const [i, event] of data.entries()) {
    const valid = validateEnvelope({ ...header, data: [event] }, { format });
    if (!valid.ok) return `data[${i}]: ${valid.error}`;
  }
  return undefined;
}

/** `auth`: the one bearer token it takes, or (OAuth mode) the client its token endpoint issues tokens to. */
export async function startLocalEndpoint(auth: string | LocalOAuth, format: Format): Promise<LocalEndpoint> {
  const records: string[] = [];
  const statuses = new Map<number, number>();
  /** OAuth mode: each token issued, and until when it is taken. */
  const issued = new Map<string, number>();
  let tokensIssued = 0;
  const authorised = (header: string | undefined): boolean => {
    if (typeof auth === 'string') return header === `Bearer ${auth}`;
    const until = issued.get(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
    return until !== undefined && Date.now() < until;
  };
  const issue = (o: LocalOAuth, req: http.IncomingMessage, body: string): [number, object] => {
    const client = clientOf(req.headers.authorization, new URLSearchParams(body));
    if (client.id !== o.clientId || client.secret !== o.clientSecret) return [401, { error: 'invalid_client' }];
    if (new URLSearchParams(body).get('grant_type') !== 'client_credentials') return [400, { error: 'unsupported_grant_type' }];
    const token = randomBytes(24).toString('base64url');
    issued.set(token, Date.now() + o.lifetimeS * 1000);
    tokensIssued++;
    return [200, { access_token: token, token_type: 'Bearer', expires_in: o.lifetimeS }];
  };
  const server = http.createServer((req, res) => {
    const answer = (status: number, error?: string) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      res.writeHead(status, { 'content-type': 'application/json' }).end(error ? JSON.stringify({ error }) : '');
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return answer(405, 'POST an envelope');
      if (typeof auth !== 'string' && req.url === '/token') {
        const [status, body] = issue(auth, req, Buffer.concat(chunks).toString('utf8'));
        return res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      }
      if (!authorised(req.headers.authorization)) return answer(401, 'a valid bearer token is required');
      if (!/^application\/json(\s*;|$)/i.test(req.headers['content-type'] ?? '')) return answer(415, 'the media type must be application/json');
      let envelope: unknown;
      try {
        envelope = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, 'not JSON');
      }
      const problem = envelopeProblem(envelope, format);
      if (problem) return answer(400, problem);
      const { data, ...header } = envelope as { dataVersion: string; data: unknown[] };
      for (const event of data) records.push(serializeEnvelope(Object.assign({ data: [event] }, header)));
      answer(200);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/caliper`,
    get tokensIssued() {
      return tokensIssued;
    },
    records,
    statuses,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
