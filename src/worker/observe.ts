// What the worker tells its operators: a stats line at an interval (with CloudWatch EMF metrics in
// the same JSON log line), and an HTTP port with /healthz and /metrics (Prometheus text).
import http from 'node:http';
import type { Logger } from 'pino';
import type { Counters, Worker } from './worker.js';

const METRICS: [keyof Counters, string][] = [
  ['received', 'Received'],
  ['published', 'Published'],
  ['acknowledged', 'Acknowledged'],
  ['sentToDlq', 'SentToDlq'],
  ['retries', 'Retries'],
  ['released', 'Released'],
];

/** Logs the counters every `intervalS` seconds: totals, deltas as EMF metrics, in flight and lag. */
export function startStats(worker: Worker, logger: Logger, intervalS: number, stream: string): () => void {
  let last: Counters = { ...worker.counters };
  const tick = () => {
    const now = { ...worker.counters };
    const delta = Object.fromEntries(METRICS.map(([k, name]) => [name, now[k] - last[k]]));
    last = now;
    logger.info(
      {
        stats: { ...now, inFlight: worker.inFlightCount, lagMs: worker.lagMs },
        // CloudWatch Embedded Metric Format: CloudWatch Logs turns this line into metrics.
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: 'CanvasCaliper',
              Dimensions: [['Stream']],
              Metrics: [...METRICS.map(([, name]) => ({ Name: name, Unit: 'Count' })), { Name: 'InFlight', Unit: 'Count' }, { Name: 'LagMs', Unit: 'Milliseconds' }],
            },
          ],
        },
        Stream: stream,
        ...delta,
        InFlight: worker.inFlightCount,
        LagMs: worker.lagMs,
      },
      'stats',
    );
  };
  const timer = setInterval(tick, intervalS * 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    tick();
  };
}

/** The poll loop is alive if a receive finished within a long poll (20 s) plus a margin. */
export const isAlive = (worker: Worker, now = Date.now()): boolean => now - worker.lastPollAt < 60_000;

export function prometheus(worker: Worker): string {
  const lines: string[] = [];
  for (const [k, name] of METRICS) {
    const metric = `canvas_caliper_${name.replace(/[A-Z]/g, (c, i) => (i ? '_' : '') + c.toLowerCase())}_total`;
    lines.push(`# TYPE ${metric} counter`, `${metric} ${worker.counters[k]}`);
  }
  lines.push('# TYPE canvas_caliper_in_flight gauge', `canvas_caliper_in_flight ${worker.inFlightCount}`);
  lines.push('# TYPE canvas_caliper_lag_milliseconds gauge', `canvas_caliper_lag_milliseconds ${worker.lagMs}`);
  return `${lines.join('\n')}\n`;
}

export function startHealthServer(worker: Worker, port: number, logger: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const alive = isAlive(worker);
      res.writeHead(alive ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ alive, lastPollAt: new Date(worker.lastPollAt).toISOString() }));
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheus(worker));
    } else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      logger.info({ port: (server.address() as { port: number }).port }, 'health server listening');
      server.unref();
      resolve(server);
    });
  });
}

/** `canvas-caliper healthcheck`: exit 0 when /healthz answers 200, else 1 (the ECS container health check). */
export function healthcheck(port: number, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
