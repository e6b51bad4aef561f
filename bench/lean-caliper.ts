// A lean Caliper endpoint (the Sensor API) for `npm run bench:e2e`: it answers what a strict endpoint
// answers to the worker's requests — 401 without the bench's bearer token, 415 for another media type,
// 400 for a body that is not an envelope with events in data — and 200 otherwise. It keeps counts,
// not the events, and checks that every event it receives is a Caliper event with an id (a full
// validation would cost more CPU per event than the worker spends: the bench would measure it).
// It is an OAuth 2.0 token endpoint too (POST /token, client credentials by HTTP Basic), whose tokens
// live BENCH_TOKEN_LIFETIME_S: the OAuth run renews several in its window.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { clientOf } from '../src/worker/local-endpoint.js';

/** The token the bench's worker is given; the endpoint refuses any other (but those its /token issued). */
export const BENCH_TOKEN = 'bench-token-not-a-secret';
/** The OAuth client of the bench's OAuth run. */
export const BENCH_CLIENT = { id: 'bench-client', secret: 'bench-client-secret-not-a-secret' };
/** Short-lived, so that the OAuth run renews tokens while it is measured. */
export const BENCH_TOKEN_LIFETIME_S = 5;

export interface LeanCaliperStats {
  requests: number;
  events: number;
  bytes: number;
  /** Events without a Caliper type and a urn:uuid id, and requests refused. */
  malformed: number;
  refused: number;
  /** Tokens issued by /token. */
  tokens: number;
}

export function createLeanCaliper(): http.Server {
  const stats: LeanCaliperStats = { requests: 0, events: 0, bytes: 0, malformed: 0, refused: 0, tokens: 0 };
  const issued = new Map<string, number>();
  const authorised = (header: string | undefined) => header === `Bearer ${BENCH_TOKEN}` || (issued.get(header?.slice(7) ?? '') ?? 0) > Date.now();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/stats') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      if (req.url === '/token') {
        const client = clientOf(req.headers.authorization, new URLSearchParams());
        if (client.id !== BENCH_CLIENT.id || client.secret !== BENCH_CLIENT.secret) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        const token = randomBytes(16).toString('hex');
        issued.set(token, Date.now() + BENCH_TOKEN_LIFETIME_S * 1000);
        stats.tokens++;
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: BENCH_TOKEN_LIFETIME_S }));
      }
      stats.requests++;
      const refuse = (status: number) => {
        stats.refused++;
        res.writeHead(status).end();
      };
      if (!authorised(req.headers.authorization)) return refuse(401);
      if (req.headers['content-type'] !== 'application/json') return refuse(415);
      const body = Buffer.concat(chunks);
      stats.bytes += body.length;
      let envelope: { sensor?: unknown; dataVersion?: unknown; data?: { type?: unknown; id?: unknown }[] };
      try {
        envelope = JSON.parse(body.toString('utf8'));
      } catch {
        return refuse(400);
      }
      if (typeof envelope.sensor !== 'string' || typeof envelope.dataVersion !== 'string' || !Array.isArray(envelope.data) || !envelope.data.length) return refuse(400);
      for (const e of envelope.data) if (typeof e.type !== 'string' || typeof e.id !== 'string' || !e.id.startsWith('urn:uuid:')) stats.malformed++;
      stats.events += envelope.data.length;
      res.writeHead(200, { 'content-length': 0 }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  return server;
}
