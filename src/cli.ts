// canvas-caliper: the command line. `map` runs the mappers on files or stdin; `events` lists them.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { eventNameOf, mapInput, unwrapSns, type EventIdMode, type MapOptions } from './engine.js';
import { MappingError, UsageError } from './errors.js';
import { eventFilter, eventNameList, unknownEventNames } from './filter.js';
import { readItems } from './input.js';
import { processIo, readFile, type Io } from './io.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';
import { caliperTime } from '../mappers/values.js';
import { FORMATS, isFormat, serializeEnvelope } from './formats/index.js';
import { ConfigError, loadPrivacy } from './config.js';
import { POLICIES, type Policy } from './privacy/policy.js';

const isPolicy = (value: string): value is Policy => (POLICIES as readonly string[]).includes(value);

export type { Io };

/** The package version, from the package.json beside dist/ (or beside src/ in tests). */
function version(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(fs.readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

const HELP = `canvas-caliper: Canvas live events (raw Canvas format) to IMS Caliper 1.1, as Instructure emits them
(or, with --format / CALIPER_FORMAT, strict IMS Caliper 1.1 or Caliper 1.2)

Usage: canvas-caliper <command> [options]

Commands:
  run             the worker: SQS → Caliper → Kinesis, or a Caliper endpoint (SINK=caliper-http);
                  configured by environment variables; with no SQS_QUEUE_URL, outside production,
                  it runs on embedded local services with the samples
  serve           the HTTPS ingest: verifies Canvas's signed live events (JWT, JWKS) and enqueues them
                  in the worker's SQS queue (configured by environment variables)
  healthcheck     exit 0 if the local worker's (or serve's) /healthz answers 200, else 1 (container health check)
  replay-dlq      get the messages parked in a dead-letter queue back into the pipeline (to the source
                  queue, straight to the worker's sink, or by SQS's own message-move task)
  map [FILE...]   map raw Canvas events to Caliper envelopes (NDJSON on stdout, or --post URL)
  events          list every supported event_name with its Caliper type, action and object type

Run 'canvas-caliper <command> --help' for a command's options.
`;

const MAP_HELP = `Usage: canvas-caliper map [options] [FILE...]

Reads raw Canvas live events from each FILE, or from stdin when there is no FILE or FILE is '-'.
An input is NDJSON (one event per line, streamed: each line stands alone), a JSON object, a JSON
array of objects, or JSON objects one after another. An SNS notification is unwrapped; a Caliper
envelope is validated and passed through. Writes one Caliper envelope per event (in --format) to
stdout, one per line (NDJSON), in input order.

An event that cannot be mapped (invalid JSON, unknown event_name, invalid fields, a value it cannot
keep exactly) writes nothing to stdout; a JSON line on stderr names it (input, position, line,
event_name, error_code, error), the other events still map, and the exit code is 1.

Options:
  --pretty                      indent each envelope (output is then no longer one line per envelope)
  --event-id deterministic|random
                                deterministic (default): the same raw event always gets the same
                                urn:uuid id, so redeliveries and replays can be de-duplicated;
                                random: a fresh v4 UUID per event
  --send-time ISO               use this envelope sendTime (any ISO 8601 time; written in UTC with ms)
                                instead of the current time, for reproducible output
  --format instructure|caliper-1.1|caliper-1.2
                                instructure (default): Caliper 1.1 exactly as Instructure emits it;
                                caliper-1.1: strict IMS Caliper 1.1; caliper-1.2: IMS Caliper 1.2
                                (docs/format-*.md). A Caliper envelope passed through must be valid
                                in this format
  --edapp-id IRI                caliper-1.2: the edApp's id (e.g. the id a platform assigned to the
                                Canvas integration; the worker's CALIPER_EDAPP_ID)
  --session auto-attach         caliper-1.2: session urn:tag:auto-attach (the worker's CALIPER_SESSION)
  --privacy keep|pseudonymise|drop
                                keep (default): personal data as Canvas sent it; pseudonymise: user
                                and SIS ids as keyed pseudonyms, names, logins and e-mails dropped,
                                IPs truncated, user agents reduced, free text dropped, URLs reduced
                                (user ids pseudonymised); drop: every personal field removed, user
                                ids pseudonymised (docs/privacy.md). Over the worker's PRIVACY; the key
                                and options come from the worker's variables: PRIVACY_KEY or
                                PRIVACY_KEY_SECRET_ARN, PRIVACY_KEY_ID, PRIVACY_IP, PRIVACY_KEEP_TEXT
  --only NAME[,NAME...]         map only these event types (repeatable); the others are skipped
  --exclude NAME[,NAME...]      skip these event types (repeatable; wins over --only)
  --unknown error|skip          an event_name no mapper handles: error (default: reported on stderr,
                                exit 1) or skip
  --post URL                    POST the envelopes to this Caliper endpoint (the Sensor API) instead of
                                writing them to stdout, batched and retried as the worker's HTTP sink
                                does; the bearer token from CALIPER_ENDPOINT_TOKEN (or the secret
                                CALIPER_ENDPOINT_TOKEN_SECRET_ARN), the HTTP_* variables as the worker's
                                (README). An event the endpoint refuses (REFUSED_BY_ENDPOINT) or that is
                                not delivered within RETRY_BUDGET_MS (NOT_DELIVERED) is reported on
                                stderr like an unmappable one; a last stderr line counts those posted
  -h, --help                    show this help

Exit codes: 0 every event mapped, 1 some events could not be mapped, 2 usage error.
`;

const EVENTS_HELP = `Usage: canvas-caliper events [--json]

Lists every supported Canvas event_name with the Caliper event type, action and object type it maps to.

Options:
  --json       one JSON object per line instead of a table
  -h, --help   show this help
`;

const COMMANDS = ['map', 'events', 'run', 'serve', 'healthcheck', 'replay-dlq'];

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'map':
        return await mapCommand(rest, io);
      case 'events':
        return eventsCommand(rest, io);
      case 'run':
        return await runCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'healthcheck':
        return await healthcheckCommand(rest, io);
      case 'replay-dlq':
        return await (await import('./replay/command.js')).replayCommand(rest, io);
      case '-V':
      case '--version':
      case 'version':
        io.stdout(`canvas-caliper ${version()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const known = command !== undefined && COMMANDS.includes(command);
      io.stderr(`canvas-caliper: ${(err as Error).message}\nRun 'canvas-caliper ${known ? `${command} ` : ''}--help' for usage.\n`);
      return 2;
    }
    throw err;
  }
}

const RUN_HELP = `Usage: canvas-caliper run

Runs the worker until SIGTERM or SIGINT: receives Canvas live events from SQS_QUEUE_URL, maps them
to Caliper, publishes them to KINESIS_STREAM_NAME (or KINESIS_STREAM_ARN) or, with SINK=caliper-http,
POSTs them to the Caliper endpoint CALIPER_ENDPOINT_URL, deletes each message once its destination
accepted it, and parks messages that can never be mapped (or whose event the endpoint refuses) in
DLQ_URL. Messages whose event
type is filtered out (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS=skip) are deleted unpublished.
All configuration comes from environment variables (see README); every bad one is reported at once
(exit 2). On the first signal it stops receiving, finishes what is in flight and exits 0 within
SHUTDOWN_TIMEOUT_MS; a second signal exits at once.

With no SQS_QUEUE_URL (and NODE_ENV not production) it starts local SQS and Kinesis services (with
SINK=caliper-http and no CALIPER_ENDPOINT_URL: local SQS and a local Caliper endpoint), enqueues the
samples, runs until the queue is drained, and prints what arrived.

Options (embedded run only):
  --ingest sqs|https   sqs (default): the samples are sent to the queue directly; https: they are
                       posted as signed JWTs to 'serve' on a loopback port, with a local JWKS and a
                       signing key made at start, as Canvas's HTTPS delivery would
`;

const SERVE_HELP = `Usage: canvas-caliper serve

The HTTPS ingest for Canvas's "HTTPS - Webhook with JWT signing" delivery (TLS ends at the load
balancer). Each POST to INGEST_PATH carries one live event as a signed JWT: it is verified against
CANVAS_JWKS_URL (the key whose kid the header names; CANVAS_JWT_ALGORITHMS, default RS256; exp, nbf
and iat within CLOCK_TOLERANCE_S), and its raw Canvas event {metadata, body} is enqueued in
SQS_QUEUE_URL, the queue 'canvas-caliper run' reads. The answer is 200 only once SQS accepted it;
401/400 (bad token, not a Canvas event), 413 (over BODY_LIMIT_BYTES), 405 (not POST), 503 (SQS or
the JWKS unavailable: retry) with a one-line JSON reason. /healthz and /metrics on the same port.
Configured by environment variables (see README); every bad one is reported at once (exit 2). On
SIGTERM or SIGINT it stops accepting, answers the requests in flight and exits 0.
`;

const HEALTHCHECK_HELP = `Usage: canvas-caliper healthcheck

Exits 0 if the worker on this host answers 200 on http://127.0.0.1:$HEALTH_PORT/healthz (default
port 8080). Otherwise it says why on stderr (connection refused, the worker's unhealthy reason, or no
answer within 3 s) and exits 1. For the ECS container health check.
`;

async function runCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(RUN_HELP);
    return 0;
  }
  const { values } = parseArgs({ args: argv, options: { ingest: { type: 'string' } } });
  if (values.ingest !== undefined && values.ingest !== 'sqs' && values.ingest !== 'https') throw new UsageError(`--ingest must be sqs or https, not '${values.ingest}'`);
  const { runWorker } = await import('./worker/run.js');
  return runWorker({ env: io.env ?? process.env, stdout: io.stdout, stderr: io.stderr }, { ingest: values.ingest ?? 'sqs' });
}

async function serveCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  if (argv.length) throw new UsageError(`serve takes no arguments (configure it with environment variables)`);
  const { runServe } = await import('./ingest/command.js');
  return runServe({ env: io.env ?? process.env, stdout: io.stdout, stderr: io.stderr });
}

async function healthcheckCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(HEALTHCHECK_HELP);
    return 0;
  }
  const { healthcheck } = await import('./worker/observe.js');
  const setting = (io.env ?? process.env).HEALTH_PORT || '8080';
  const port = Number(setting);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    io.stderr(`canvas-caliper healthcheck: HEALTH_PORT is '${setting}': the worker serves /healthz only on a port from 1 to 65535\n`);
    return 1;
  }
  const { ok, problem } = await healthcheck(port);
  if (!ok) io.stderr(`canvas-caliper healthcheck: ${problem}\n`);
  return ok ? 0 : 1;
}

function eventsCommand(argv: string[], io: Io): number {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.stdout(EVENTS_HELP);
    return 0;
  }
  const rows = [...MAPPERS.values()].map((m) => ({
    event_name: m.eventName,
    type: m.type,
    action: m.action,
    object: m.objectType.split(', '),
    origin: INSTRUCTURE_EVENT_NAMES.has(m.eventName) ? 'instructure' : 'ours',
  }));
  if (values.json) {
    for (const row of rows) io.stdout(`${JSON.stringify(row)}\n`);
    return 0;
  }
  const header = { event_name: 'EVENT_NAME', type: 'CALIPER TYPE', action: 'ACTION', origin: 'ORIGIN', object: 'OBJECT TYPE' };
  const all = [header, ...rows.map((r) => ({ ...r, object: r.object.join(', ') }))];
  const width = (k: keyof typeof header) => Math.max(...all.map((r) => r[k].length));
  const [w1, w2, w3, w4] = [width('event_name'), width('type'), width('action'), width('origin')];
  for (const r of all) io.stdout(`${r.event_name.padEnd(w1)}  ${r.type.padEnd(w2)}  ${r.action.padEnd(w3)}  ${r.origin.padEnd(w4)}  ${r.object}\n`);
  return 0;
}

async function mapCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      pretty: { type: 'boolean' },
      'event-id': { type: 'string', default: 'deterministic' },
      'send-time': { type: 'string' },
      format: { type: 'string', default: 'instructure' },
      'edapp-id': { type: 'string' },
      session: { type: 'string' },
      privacy: { type: 'string' },
      only: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      unknown: { type: 'string', default: 'error' },
      post: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(MAP_HELP);
    return 0;
  }
  if (values.post !== undefined && values.pretty) throw new UsageError('--pretty is for stdout; --post sends the envelopes instead');
  const only = values.only && values.only.flatMap(eventNameList);
  const exclude = values.exclude?.flatMap(eventNameList);
  for (const [flag, names] of [['--only', only], ['--exclude', exclude]] as const) {
    const unknownNames = unknownEventNames(names ?? []);
    if (unknownNames.length) throw new UsageError(`${flag}: not an event type we map: ${unknownNames.join(', ')} (run 'canvas-caliper events')`);
  }
  if (values.unknown !== 'error' && values.unknown !== 'skip') throw new UsageError(`--unknown must be error or skip, not '${values.unknown}'`);
  const filter = eventFilter({ only, exclude, unknown: values.unknown === 'skip' ? 'skip' : 'report' });
  const eventId = values['event-id'];
  if (eventId !== 'deterministic' && eventId !== 'random') throw new UsageError(`--event-id must be deterministic or random, not '${eventId}'`);
  const options: MapOptions = { eventId: eventId as EventIdMode };
  const format = values.format;
  if (!isFormat(format)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, not '${format}'`);
  options.format = format;
  const edAppId = values['edapp-id'];
  const session = values.session;
  if ((edAppId !== undefined || session !== undefined) && format !== 'caliper-1.2') throw new UsageError('--edapp-id and --session are options of --format caliper-1.2');
  if (edAppId !== undefined && !/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(edAppId)) throw new UsageError(`--edapp-id must be an absolute IRI, not '${edAppId}'`);
  if (session !== undefined && session !== 'auto-attach') throw new UsageError(`--session must be auto-attach, not '${session}'`);
  if (format === 'caliper-1.2') options.formatOptions = { edAppId, session };
  // The policy as the worker reads it (PRIVACY, PRIVACY_KEY, … from the environment), --privacy over PRIVACY.
  if (values.privacy !== undefined && !isPolicy(values.privacy)) throw new UsageError(`--privacy must be ${POLICIES.join(', ')}, not '${values.privacy}'`);
  try {
    options.privacy = await loadPrivacy(io.env ?? process.env, values.privacy);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${values.privacy === undefined ? 'privacy' : `--privacy ${values.privacy}`}: ${err.problems.join('; ')}`);
    throw err;
  }
  if (values['send-time'] !== undefined) {
    try {
      options.sendTime = caliperTime(values['send-time'], '--send-time');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const sources = positionals.length ? positionals : ['-'];
  const poster = values.post === undefined ? undefined : await (await import('./post.js')).openPoster(values.post, io.env ?? process.env);
  let failed = 0;
  for (const source of sources) {
    const input = source === '-' ? 'stdin' : source;
    try {
      for await (const item of readItems(source === '-' ? io.stdin() : readFile(source))) {
        try {
          if (item.error) throw item.error;
          const value = unwrapSns(item.value);
          const eventName = eventNameOf(value);
          if (eventName !== undefined && filter(eventName) === 'skip') continue;
          const decoded = mapInput(value, options);
          const where = { input, position: item.position, line: item.line, event_name: decoded.eventName };
          if (poster) {
            await poster.post(decoded, async (error_code, error) => {
              failed++;
              await io.stderr(`${JSON.stringify({ ...where, error_code, error })}\n`);
            });
          } else await io.stdout(`${serializeEnvelope(decoded.envelope, values.pretty ? 2 : undefined)}\n`);
        } catch (err) {
          failed++;
          const e = err instanceof MappingError ? err : new MappingError('MAPPER_ERROR', String(err));
          const report = { input, position: item.position, line: item.line, event_name: e.eventName, error_code: e.code, error: e.message };
          await io.stderr(`${JSON.stringify(report)}\n`);
        }
      }
    } catch (err) {
      failed++;
      await io.stderr(`${JSON.stringify({ input, error_code: 'READ_ERROR', error: (err as Error).message })}\n`);
    }
  }
  if (poster) await io.stderr(`posted ${await poster.finish()} events to ${((u) => u.origin + u.pathname)(new URL(values.post!))}\n`);
  return failed ? 1 : 0;
}
