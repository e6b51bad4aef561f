// A real Caliper endpoint on loopback (node:http) for the HTTP sink's tests: it records every request
// and answers as the test's handler says.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientOf } from '../src/worker/local-endpoint.js';

export interface Received {
  /** The request's path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The envelope, parsed. */
  envelope: { sensor: string; sendTime: string; dataVersion: string; data: { id: string; object: { name?: string } }[] };
}

/**
 * How the endpoint answers one request: `trickleMs` writes the body one byte at a time with that pause;
 * `cutAfter` promises the whole body (Content-Length) but closes the connection after that many bytes.
 */
export type Answer = { status: number; body?: string; headers?: Record<string, string>; trickleMs?: number; cutAfter?: number } | 'hang';

export interface TestEndpoint {
  url: string;
  requests: Received[];
  /** The event ids of every envelope answered 2xx, in order (duplicates kept). */
  delivered: string[];
  close(): Promise<void>;
}

export async function testEndpoint(answer: (r: Received, n: number) => Answer): Promise<TestEndpoint> {
  const requests: Received[] = [];
  const delivered: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let envelope: Received['envelope'];
      try {
        envelope = JSON.parse(body);
      } catch {
        res.writeHead(400).end('not JSON');
        return;
      }
      const r: Received = { url: req.url ?? '', headers: req.headers, body, envelope };
      requests.push(r);
      const a = answer(r, requests.length);
      if (a === 'hang') return; // never answers: the client's timeout must fire
      if (a.status >= 200 && a.status < 300) delivered.push(...envelope.data.map((e) => e.id));
      answerWith(res, a);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/caliper`,
    requests,
    delivered,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Writes an answer: at once, trickling, or cut off. */
export function answerWith(res: http.ServerResponse, a: Exclude<Answer, 'hang'>): void {
  const body = Buffer.from(a.body ?? '');
  res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': String(body.length), ...a.headers });
  if (a.cutAfter !== undefined) {
    res.write(body.subarray(0, a.cutAfter));
    setTimeout(() => res.socket?.destroy(), 20);
  } else if (a.trickleMs !== undefined) {
    let i = 0;
    const timer = setInterval(() => {
      if (i >= body.length || res.destroyed) {
        clearInterval(timer);
        return void res.end();
      }
      res.write(body.subarray(i, ++i));
    }, a.trickleMs);
    res.on('close', () => clearInterval(timer));
  } else res.end(body);
}

export interface TokenRequest {
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
  at: number;
}

export interface TokenEndpoint {
  url: string;
  requests: TokenRequest[];
  /** Whether the events endpoint should take this bearer token: issued by us, not expired, not revoked. */
  valid(authorization: string | undefined): boolean;
  /** Every token issued, in order. */
  issued: string[];
  revoke(token: string): void;
  close(): Promise<void>;
}

/**
 * A real OAuth 2.0 token endpoint on loopback (client credentials, RFC 6749 §4.4) for one client, by
 * HTTP Basic (id and secret form-urlencoded, §2.3.1) or in the body; `answer` may override an answer
 * (a 503, a hang, a trickle) by request number.
 */
export async function testTokenEndpoint(o: { clientId: string; clientSecret: string; expiresIn?: number; answer?: (n: number, r: TokenRequest) => Answer | undefined }): Promise<TokenEndpoint> {
  const requests: TokenRequest[] = [];
  const issued: string[] = [];
  const until = new Map<string, number>();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: TokenRequest = { headers: req.headers, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')), at: Date.now() };
      requests.push(r);
      const override = o.answer?.(++n, r);
      if (override === 'hang') return;
      if (override) return answerWith(res, override);
      const { id, secret } = clientOf(req.headers.authorization, r.form);
      if (id !== o.clientId || secret !== o.clientSecret) return answerWith(res, { status: 401, body: JSON.stringify({ error: 'invalid_client' }) });
      if (r.form.get('grant_type') !== 'client_credentials') return answerWith(res, { status: 400, body: JSON.stringify({ error: 'unsupported_grant_type' }) });
      const token = `at-${randomBytes(12).toString('hex')}`;
      issued.push(token);
      if (o.expiresIn !== undefined) until.set(token, Date.now() + o.expiresIn * 1000);
      else until.set(token, Infinity);
      answerWith(res, { status: 200, body: JSON.stringify({ access_token: token, token_type: 'Bearer', ...(o.expiresIn !== undefined ? { expires_in: o.expiresIn } : {}) }) });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    requests,
    issued,
    valid: (authorization) => {
      const t = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
      return t !== undefined && Date.now() < (until.get(t) ?? 0);
    },
    revoke: (token) => void until.delete(token),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
