// What the bench's lean endpoints (lean-sqs.ts, lean-kinesis.ts) share: the AWS JSON protocol over
// HTTP — the action named by `x-amz-target`, a JSON body in and out, client errors as 400 with their
// `__type` — and a `/stats` page with the endpoint's counters.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

/** An error the client made (a 400 with its type), as opposed to a fault of the endpoint (500). */
export class ClientError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export type Action = (input: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- each action reads its own input shape

export interface AwsJsonEndpoint {
  /** `1.0` (SQS) or `1.1` (Kinesis): the content type `application/x-amz-json-<version>`. */
  version: '1.0' | '1.1';
  actions: Record<string, Action>;
  /** Counters shown on GET /stats; `calls` is counted here, and each action by name when `actions` is an object. */
  stats: { calls: number; actions?: Record<string, number> };
  /** The `__type` of an error as the service writes it (SQS prefixes a namespace). */
  errorType: (type: string) => string;
  /** The type of the error for an action the endpoint does not have. */
  unknownAction: string;
}

export function awsJsonServer(e: AwsJsonEndpoint): http.Server {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(e.stats));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      e.stats.calls++;
      const target = String(req.headers['x-amz-target'] ?? '');
      const name = target.slice(target.indexOf('.') + 1);
      const action = e.actions[name];
      if (e.stats.actions) e.stats.actions[name] = (e.stats.actions[name] ?? 0) + 1;
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': `application/x-amz-json-${e.version}`, 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(text) }).end(text);
      };
      const fail = (err: unknown) =>
        err instanceof ClientError ? send(400, { __type: e.errorType(err.type), message: err.message }) : send(500, { __type: e.errorType('InternalFailure'), message: String(err) });
      if (!action) return fail(new ClientError(e.unknownAction, `unsupported: ${target}`));
      try {
        const out = action(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
        if (out instanceof Promise) out.then((o) => send(200, o), fail);
        else send(200, out);
      } catch (err) {
        fail(err);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  return server;
}
