// The HTTP side of `canvas-caliper serve`: Canvas POSTs one signed live event per request to the ingest
// path; each is read (up to the body limit), verified, and enqueued, and answered 200 only once SQS
// accepted it. Every other answer is one JSON line with the reason, never the token. /healthz and
// /metrics as the worker has them. Keep-alive, request ids, a counter per outcome.
import crypto from 'node:crypto';
import http from 'node:http';
import type { Logger } from 'pino';
import { FAULT_KINDS, type Faults } from '../worker/faults.js';
import { promMetric, type Health } from '../worker/observe.js';
import { EnqueueError, type Enqueuer } from './enqueue.js';
import { OUTCOMES, Refusal, type Outcome, type Verify } from './verify.js';

export interface IngestOptions {
  verify: Verify;
  enqueuer: Pick<Enqueuer, 'send'>;
  faults: Faults;
  logger: Logger;
  ingestPath: string;
  bodyLimitBytes: number;
  unhealthyAfterS: number;
  keepAliveTimeoutS: number;
}

export type OutcomeCounts = Record<Outcome, number>;

export interface Ingest {
  server: http.Server;
  counts: OutcomeCounts;
  /** Requests being handled now. */
  readonly inFlight: number;
  health(now?: number): Health;
  /** Stops accepting, lets the requests in flight finish (their connections then close), resolves when none is left or after `timeoutMs`. */
  close(timeoutMs: number): Promise<{ unfinished: number }>;
}

export function createIngest(o: IngestOptions): Ingest {
  const counts = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as OutcomeCounts;
  let inFlight = 0;
  let closing = false;

  const health = (now = Date.now()): Health => {
    if (closing) return { healthy: false, reason: 'shutting down' };
    const failing = o.faults.failingLongerThan(o.unhealthyAfterS * 1000, ['SendMessageBatch'], now);
    return failing ? { healthy: false, reason: `SendMessageBatch has failed for ${Math.round((now - failing.since) / 1000)} s (${failing.kind}: ${failing.error})` } : { healthy: true };
  };

  const metrics = () =>
    [
      ...promMetric('canvas_caliper_ingest_requests_total', 'counter', OUTCOMES.map((k) => [`{outcome="${k}"}`, counts[k]])),
      ...promMetric('canvas_caliper_errors_total', 'counter', FAULT_KINDS.map((kind) => [`{kind="${kind}"}`, o.faults.counts[kind]])),
      ...promMetric('canvas_caliper_ingest_in_flight', 'gauge', [['', inFlight]]),
    ].join('\n') + '\n';

  const server = http.createServer(async (req, res) => {
    const requestId = crypto.randomUUID();
    const path = (req.url ?? '/').split('?')[0];
    res.setHeader('x-request-id', requestId);
    const answer = (status: number, outcome: Outcome, reason?: string, extra: Record<string, string> = {}) => {
      counts[outcome]++;
      try {
        // Once shutting down, no connection is kept for another request.
        if (closing) res.setHeader('connection', 'close');
        if (outcome !== 'enqueued') o.logger.info({ requestId, status, outcome, reason }, `refused (${status} ${outcome}): ${reason}`);
        else o.logger.debug({ requestId, status, outcome }, 'enqueued');
        res.writeHead(status, { 'content-type': 'application/json', ...extra }).end(`${JSON.stringify(reason === undefined ? { status: outcome, request_id: requestId } : { error: reason, request_id: requestId })}\n`);
      } catch {
        // An answer that cannot be written (its headers already sent, say) ends its connection: never a request left hanging.
        res.destroy();
      }
    };
    if (path === '/healthz' && req.method === 'GET') {
      const h = health();
      res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
      return;
    }
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics());
      return;
    }
    if (path !== o.ingestPath) return answer(404, 'not_found', `nothing here: POST the signed events to ${o.ingestPath}`);
    if (req.method !== 'POST') return answer(405, 'method_not_allowed', `only POST is accepted on ${o.ingestPath}`, { allow: 'POST' });
    inFlight++;
    try {
      let body: Buffer | undefined;
      try {
        body = await readBody(req, o.bodyLimitBytes);
      } catch {
        // Nobody to answer. (Only the read is judged so: a request read whole is answered, whatever fails next.)
        o.logger.info({ requestId }, 'the client closed the connection before its body was read');
        res.destroy();
        return;
      }
      if (body === undefined) {
        // The rest of an oversized body is not read: the connection closes after the answer.
        res.setHeader('connection', 'close');
        return answer(413, 'too_large', `the body is over ${o.bodyLimitBytes} bytes`);
      }
      const event = await o.verify(body.toString('utf8').trim());
      await o.enqueuer.send(event.body, event.eventName);
      answer(200, 'enqueued');
    } catch (err) {
      if (err instanceof Refusal) answer(err.status, err.outcome, err.message);
      else if (err instanceof EnqueueError) answer(503, 'sqs_unavailable', `not enqueued, retry later: ${err.message}`, { 'retry-after': '5' });
      else {
        // A bug of ours: logged by name (its message or stack could hold a part of the event), answered, counted.
        o.logger.error({ requestId, error: (err as Error)?.name ?? 'Error' }, 'unexpected error: answered 503 internal_error');
        answer(503, 'internal_error', 'not enqueued: internal error, retry later');
      }
    } finally {
      inFlight--;
    }
  });
  // Above the load balancer's idle timeout (ALB: 60 s), so that it, not this server, closes idle connections.
  server.keepAliveTimeout = o.keepAliveTimeoutS * 1000;
  server.headersTimeout = o.keepAliveTimeoutS * 1000 + 1000;
  server.requestTimeout = 60_000;

  const close = (timeoutMs: number) =>
    new Promise<{ unfinished: number }>((resolve) => {
      closing = true;
      const timer = setTimeout(() => {
        server.closeAllConnections();
        resolve({ unfinished: inFlight });
      }, timeoutMs);
      server.close(() => {
        clearTimeout(timer);
        resolve({ unfinished: 0 });
      });
      server.closeIdleConnections();
    });

  return {
    server,
    counts,
    get inFlight() {
      return inFlight;
    },
    health,
    close,
  };
}

/** The request body, or undefined once it is over `limit` bytes (by Content-Length or as read). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
  });
}
