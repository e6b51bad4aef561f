// A local Caliper endpoint (the Sensor API) on loopback, for `npm start` with SINK=caliper-http and no
// CALIPER_ENDPOINT_URL: it checks what a strict endpoint checks — the bearer token (401), the media
// type (415), the JSON and each event with our validator in the output format (400) — and keeps every
// event it accepted, as a one-event envelope, for the summary.
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
  stop(): Promise<void>;
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

export async function startLocalEndpoint(token: string, format: Format): Promise<LocalEndpoint> {
  const records: string[] = [];
  const statuses = new Map<number, number>();
  const server = http.createServer((req, res) => {
    const answer = (status: number, error?: string) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      res.writeHead(status, { 'content-type': 'application/json' }).end(error ? JSON.stringify({ error }) : '');
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return answer(405, 'POST an envelope');
      if (req.headers.authorization !== `Bearer ${token}`) return answer(401, 'a valid bearer token is required');
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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/caliper`,
    records,
    statuses,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
