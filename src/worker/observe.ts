// What the worker tells its operators: a stats line at an interval (with CloudWatch EMF metrics in
// the same JSON log line where CloudWatch reads them), and an HTTP port with /healthz and /metrics
// (Prometheus text).
import http from 'node:http';
import type { Logger } from 'pino';
import type { AwsCalls } from './clients.js';
import { FAULT_KINDS, type Operation } from './faults.js';
import type { Counters, Worker } from './worker.js';

const METRICS: [keyof Counters, string][] = [
  ['received', 'Received'],
  ['published', 'Published'],
  ['acknowledged', 'Acknowledged'],
  ['sentToDlq', 'SentToDlq'],
  ['retries', 'Retries'],
  ['released', 'Released'],
  ['skipped', 'Skipped'],
];

/**
 * The CloudWatch Embedded Metric Format fields of a log line (namespace CanvasCaliper): CloudWatch Logs
 * turns the line's fields named by `metrics` into metrics with these dimensions.
 */
export function emf(dimensions: Record<string, string>, metrics: { name: string; unit: string }[]): Record<string, unknown> {
  return {
    _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: 'CanvasCaliper', Dimensions: [Object.keys(dimensions)], Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })) }] },
    ...dimensions,
  };
}

/** A Prometheus label value: backslash, double quote and line feed escaped (names Canvas sends end up here). */
export const labelValue = (value: string): string => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

/** A Prometheus counter or gauge: its TYPE line and one sample per label set. */
export function promMetric(name: string, type: 'counter' | 'gauge', samples: [labels: string, value: number][]): string[] {
  return [`# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labels} ${value}`)];
}

/** The sink's figures that go into the stats line: counters as deltas since the last line, gauges as they are. */
function sinkFigures(worker: Worker, last: Map<string, number>): { name: string; unit: string; value: number }[] {
  return worker
    .sinkMetrics()
    .filter((m) => m.emf)
    .map((m) => {
      const value = m.kind === 'counter' ? m.value - (last.get(m.emf!) ?? 0) : m.value;
      last.set(m.emf!, m.value);
      return { name: m.emf!, unit: m.unit, value };
    });
}

/** What the SDK retried and the attempts cut at their deadline, per operation (only those with any), for a stats line. */
export function awsFigures(calls: AwsCalls): Record<string, { retries: number; retryDelayMs: number; timeouts: number }> | undefined {
  const entries = [...calls.byOperation].filter(([, c]) => c.retries || c.timeouts);
  return entries.length ? Object.fromEntries(entries.map(([operation, c]) => [operation, { ...c }])) : undefined;
}

/**
 * Logs the counters every `intervalS` seconds: totals, in flight and lag, failed calls by kind, what
 * the SDK retried, unknown event types and fields; with `withEmf`, the deltas and the sink's own
 * figures (the HTTP sink: requests by status class, latency, bytes, refused events) as CloudWatch EMF
 * metrics in the same line. `destination`: the stream, or the Caliper endpoint (the EMF dimension
 * Stream or Endpoint).
 */
export function startStats(worker: Worker, logger: Logger, intervalS: number, destination: string, dimension: 'Stream' | 'Endpoint' = 'Stream', withEmf = true): () => void {
  let last: Counters = { ...worker.counters };
  let lastAws = worker.awsCalls.totals();
  const lastSink = new Map<string, number>();
  sinkFigures(worker, lastSink);
  const tick = () => {
    const now = { ...worker.counters };
    const aws = awsFigures(worker.awsCalls);
    const unknown = worker.unknowns.summary();
    const stats = { ...now, inFlight: worker.inFlightCount, lagMs: worker.lagMs, errors: { ...worker.faults.counts }, ...(aws ? { aws } : {}), ...(unknown.seen ? { unknown } : {}) };
    if (!withEmf) {
      last = now;
      return logger.info({ stats }, 'stats');
    }
    const delta = Object.fromEntries(METRICS.map(([k, name]) => [name, now[k] - last[k]]));
    const awsNow = worker.awsCalls.totals();
    const sink = sinkFigures(worker, lastSink);
    const own = [
      ...METRICS.map(([, name]) => ({ name, unit: 'Count' })),
      { name: 'InFlight', unit: 'Count' },
      { name: 'LagMs', unit: 'Milliseconds' },
      { name: 'AwsRetries', unit: 'Count' },
      { name: 'AwsTimeouts', unit: 'Count' },
    ];
    logger.info(
      {
        stats,
        ...emf({ [dimension]: destination }, [...own, ...sink.map((m) => ({ name: m.name, unit: m.unit }))]),
        ...delta,
        ...Object.fromEntries(sink.map((m) => [m.name, m.value])),
        InFlight: worker.inFlightCount,
        LagMs: worker.lagMs,
        AwsRetries: awsNow.retries - lastAws.retries,
        AwsTimeouts: awsNow.timeouts - lastAws.timeouts,
      },
      'stats',
    );
    last = now;
    lastAws = awsNow;
  };
  const timer = setInterval(tick, intervalS * 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    tick();
  };
}

/** The calls every message needs: failing for longer than UNHEALTHY_AFTER_S makes the task unhealthy. */
const DATA_PATH: readonly Operation[] = ['ReceiveMessage', 'PutRecords', 'PostEnvelope', 'TokenRequest', 'DeleteMessageBatch'];

export interface Health {
  healthy: boolean;
  reason?: string;
}

/**
 * Unhealthy when a call of the data path has failed with no success for longer than UNHEALTHY_AFTER_S,
 * or when no receive has finished for that long (at least a long poll plus a margin): the poll loop is stuck.
 */
export function health(worker: Worker, now = Date.now()): Health {
  const c = worker.config;
  if (worker.blocked) return { healthy: false, reason: `not consuming: ${worker.blocked}` };
  const failing = worker.faults.failingLongerThan(c.UNHEALTHY_AFTER_S * 1000, DATA_PATH, now);
  if (failing) return { healthy: false, reason: `${failing.operation} has failed for ${Math.round((now - failing.since) / 1000)} s (${failing.kind}: ${failing.error})` };
  const idleMs = now - worker.lastPollAt;
  if (idleMs > Math.max(c.UNHEALTHY_AFTER_S, c.RECEIVE_WAIT_TIME_S + 40) * 1000) return { healthy: false, reason: `no receive has finished for ${Math.round(idleMs / 1000)} s` };
  return { healthy: true };
}

export function prometheus(worker: Worker): string {
  const lines: string[] = [];
  for (const [k, name] of METRICS) lines.push(...promMetric(`canvas_caliper_${name.replace(/[A-Z]/g, (c, i) => (i ? '_' : '') + c.toLowerCase())}_total`, 'counter', [['', worker.counters[k]]]));
  lines.push(...promMetric('canvas_caliper_errors_total', 'counter', FAULT_KINDS.map((kind) => [`{kind="${kind}"}`, worker.faults.counts[kind]])));
  // Left out once mapped (CALIPER_EVENT_TYPES, PERSON_ID_UNMAPPED=skip), by Caliper Type.Action or unmapped_person; also in skipped_total.
  if (worker.skippedByType.size) lines.push(...promMetric('canvas_caliper_skipped_by_type_total', 'counter', [...worker.skippedByType].map(([type, n]) => [`{type="${type}"}`, n])));
  const personMap = worker.config.personMap?.status;
  if (personMap) {
    lines.push(...promMetric('canvas_caliper_person_map_rows', 'gauge', [['', personMap.rows]]));
    lines.push(...promMetric('canvas_caliper_person_map_reloads_total', 'counter', [['', personMap.reloads]]));
    lines.push(...promMetric('canvas_caliper_person_map_refresh_failures_total', 'counter', [['', personMap.refreshFailures]]));
  }
  lines.push(...promMetric('canvas_caliper_in_flight', 'gauge', [['', worker.inFlightCount]]));
  lines.push(...promMetric('canvas_caliper_lag_milliseconds', 'gauge', [['', worker.lagMs]]));
  const aws = [...worker.awsCalls.byOperation];
  lines.push(...promMetric('canvas_caliper_aws_retries_total', 'counter', aws.map(([op, c]) => [`{operation="${op}"}`, c.retries])));
  lines.push(...promMetric('canvas_caliper_aws_retry_delay_milliseconds_total', 'counter', aws.map(([op, c]) => [`{operation="${op}"}`, c.retryDelayMs])));
  lines.push(...promMetric('canvas_caliper_aws_timeouts_total', 'counter', aws.map(([op, c]) => [`{operation="${op}"}`, c.timeouts])));
  const unknown = worker.unknowns.list();
  const types = unknown.filter((u) => u.field === undefined);
  const fields = unknown.filter((u) => u.field !== undefined);
  lines.push(...promMetric('canvas_caliper_unknown_event_types_total', 'counter', types.map((u) => [`{event_type="${labelValue(u.eventType)}"}`, u.count])));
  lines.push(...promMetric('canvas_caliper_unknown_fields_total', 'counter', fields.map((u) => [`{event_type="${labelValue(u.eventType)}",field="${labelValue(u.field!)}"}`, u.count])));
  lines.push(...promMetric('canvas_caliper_unknown_overflow_total', 'counter', [['', worker.unknowns.overflow]]));
  const typed = new Set<string>();
  for (const m of worker.sinkMetrics()) {
    const metric = `canvas_caliper_${m.name}`;
    if (!typed.has(metric)) lines.push(`# TYPE ${metric} ${m.kind}`);
    typed.add(metric);
    const labels = m.labels ? `{${Object.entries(m.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
    lines.push(`${metric}${labels} ${m.value}`);
  }
  return `${lines.join('\n')}\n`;
}

export function startHealthServer(worker: Worker, port: number, logger: Logger): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      const h = health(worker);
      res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ...h, lastPollAt: new Date(worker.lastPollAt).toISOString() }));
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

/**
 * `canvas-caliper healthcheck` (the ECS container health check): ok when /healthz answers 200, else
 * why not: nothing listening, the unhealthy reason, or no answer in time.
 */
export function healthcheck(port: number, timeoutMs = 3_000): Promise<{ ok: boolean; problem?: string; refused?: true }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ok: true }) : resolve({ ok: false, problem: `unhealthy (HTTP ${res.statusCode}): ${reasonIn(body)}` })));
    });
    req.on('timeout', () => {
      resolve({ ok: false, problem: `no answer on port ${port} within ${timeoutMs / 1000} s` });
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Nothing listens there: the caller knows which process was expected, and says so.
      if (err.code === 'ECONNREFUSED') resolve({ ok: false, refused: true, problem: `connection refused on port ${port}` });
      else resolve({ ok: false, problem: `${err.code ?? err.message} on port ${port}` });
    });
  });
}

const reasonIn = (body: string): string => {
  try {
    return String((JSON.parse(body) as Health).reason ?? body);
  } catch {
    return body.trim() || '(no body)';
  }
};
