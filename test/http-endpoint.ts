// A real Caliper endpoint on loopback (node:http) for the HTTP sink's tests: it records every request
// and answers as the test's handler says.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The envelope, parsed. */
  envelope: { sensor: string; sendTime: string; dataVersion: string; data: { id: string; object: { name?: string } }[] };
}

export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

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
      const r: Received = { headers: req.headers, body, envelope };
      requests.push(r);
      const a = answer(r, requests.length);
      if (a === 'hang') return; // never answers: the client's timeout must fire
      if (a.status >= 200 && a.status < 300) delivered.push(...envelope.data.map((e) => e.id));
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body ?? '');
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
