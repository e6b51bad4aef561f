// canvas-caliper: the command line. `map` runs the mappers on files or stdin; `events` lists them.
import fs from 'node:fs';
import { eventNameOf, mapInput, unwrapSns, type Decoded, type EventIdMode, type MapOptions } from './engine.js';
import { MappingError, SkippedEvent, UsageError } from './errors.js';
import { eventFilter, eventNameList, unknownEventNames } from './filter.js';
import { didYouMean, parseOptions } from './args.js';
import { readItems, textOf } from './input.js';
import { OutputError, processIo, readFile, type Io } from './io.js';
import { INSTRUCTURE_EVENT_NAMES, MAPPERS } from '../mappers/index.js';
import { caliperTime } from '../mappers/values.js';
import { FORMATS, isFormat, serializeEnvelope } from './formats/index.js';
import { ConfigError, loadIdentity, loadPrivacy } from './config.js';
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
  healthcheck     exit 0 if the worker's (HEALTH_PORT) or serve's (PORT) /healthz on this host answers 200,
                  else 1 (the container health check)
  replay-dlq      get the messages parked in a dead-letter queue back into the pipeline (to the source
                  queue, straight to the worker's sink, or by SQS's own message-move task)
  map [FILE...]   map raw Canvas events to Caliper envelopes (NDJSON on stdout, or --post URL)
  events          list every supported event_name with its Caliper type, action and object type

Run 'canvas-caliper <command> --help' (or 'canvas-caliper help <command>') for a command's options.
`;

const MAP_HELP = `Usage: canvas-caliper map [options] [FILE...]

Reads raw Canvas live events from each FILE, or from stdin when there is no FILE or FILE is '-'.
An input is NDJSON (one event per line, streamed: each line stands alone), a JSON object, a JSON
array of objects, or JSON objects one after another; gzip-compressed, it is read as if decompressed.
An SNS notification is unwrapped; a Caliper envelope is validated and passed through. Writes one
Caliper envelope per event (in --format) to stdout, one per line (NDJSON), in input order.

An event that cannot be mapped (invalid JSON, unknown event_name, invalid fields, a value it cannot
keep exactly) writes nothing to stdout; a JSON line on stderr names it (input, position, line,
event_name, error_code, error), the other events still map, and the exit code is 1. The last stderr
line is the tally: mapped N · refused N · skipped N.

Options:
  --pretty                      indent each envelope (output is then no longer one line per envelope)
  --event-id deterministic|random
                                deterministic (default): the same raw event always gets the same
                                urn:uuid id, so redeliveries and replays can be de-duplicated;
                                random: a fresh v4 UUID per event
  --send-time ISO               use this envelope sendTime instead of the current time, for
                                reproducible output: an ISO 8601 time (no zone: UTC) or a date alone
                                (2024-01-02: midnight UTC); written in UTC with ms
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
  --iri urn|https               urn (default): Canvas entities as urn:instructure:canvas:<kind>:<id>;
                                https: as their Canvas URL (https://<host>/courses/<id>, …) or, with
                                no such route, a urn:uuid: of that id (the worker's CALIPER_IRI;
                                CALIPER_IRI_HOST sets the host; docs/timeback.md)
  --person-map FILE             a CSV (header canvas_user_id,person_id) or s3://bucket/key: every
                                person it names is urn:uuid:<person_id> (the worker's PERSON_ID_MAP;
                                PERSON_ID_UNMAPPED=keep|skip|dlq says what becomes of an event with a
                                person it does not name; dlq, the default, reports it UNMAPPED_PERSON)
  --caliper-types TYPE[,TYPE...]
                                publish only events of these Caliper types or Type.Action, e.g.
                                SessionEvent,GradeEvent.Graded (the worker's CALIPER_EVENT_TYPES);
                                the others are skipped
  --navigation navigation|view  caliper-1.2: a content view (asset_accessed) as NavigationEvent
                                NavigatedTo (default) or ViewEvent Viewed (CALIPER_NAVIGATION)
                                These four read their variables from the environment too, as the
                                worker does; a flag overrides its variable
  --only NAME[,NAME...]         map only these event types (repeatable); the others are skipped
  --exclude NAME[,NAME...]      skip these event types (repeatable; wins over --only)
  --unknown error|skip          an event_name no mapper handles: error (default: reported on stderr,
                                exit 1) or skip
  --post URL                    POST the envelopes to this Caliper endpoint (the Sensor API) instead of
                                writing them to stdout, batched and retried as the worker's HTTP sink
                                does; the bearer token from CALIPER_ENDPOINT_TOKEN (or the secret
                                CALIPER_ENDPOINT_TOKEN_SECRET_ARN, or OAuth 2.0 client credentials:
                                CALIPER_ENDPOINT_TOKEN_URL, _CLIENT_ID, _CLIENT_SECRET, _SCOPE, …), the
                                HTTP_* variables as the worker's (docs/configuration.md). An event
                                the endpoint refuses (REFUSED_BY_ENDPOINT) or that is not delivered
                                within RETRY_BUDGET_MS (NOT_DELIVERED) is reported on stderr like an
                                unmappable one; a stderr line before the tally counts those posted
  -h, --help                    show this help

Exit codes: 0 every event mapped, 1 some events could not be mapped (or an input could not be read),
2 usage error, 74 the output could not be written.
`;

const EVENTS_HELP = `Usage: canvas-caliper events [--json]

Lists every supported Canvas event_name with the Caliper event type, action and object type it maps to.

Options:
  --json       one JSON object per line instead of a table
  -h, --help   show this help

Exit codes: 0 listed, 2 usage error, 74 the output could not be written.
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
        return await eventsCommand(rest, io);
      case 'run':
        return await runCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'healthcheck':
        return await (await import('./healthcheck.js')).healthcheckCommand(rest, io);
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
        // `help map`: that command's own help, as `map --help` prints it.
        if (command === 'help' && rest.length) return await main([rest[0]!, '--help', ...rest.slice(1)], io);
        await io.stdout(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'${didYouMean(command, COMMANDS)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const known = command !== undefined && COMMANDS.includes(command);
      const problems = err instanceof UsageError ? err.problems : [(err as Error).message];
      const said = problems.length === 1 ? `canvas-caliper: ${problems[0]}` : `canvas-caliper${known ? ` ${command}` : ''}: ${problems.length} problems:\n  ${problems.join('\n  ')}`;
      await io.stderr(`${said}\nRun 'canvas-caliper ${known ? `${command} ` : ''}--help' for usage.\n`);
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
type is filtered out (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS=skip; once mapped,
CALIPER_EVENT_TYPES and PERSON_ID_UNMAPPED=skip) are deleted unpublished.
All configuration comes from environment variables (see docs/configuration.md); every bad one is
reported at once (exit 2). On the first signal it stops receiving, finishes what is in flight and
exits 0 within SHUTDOWN_TIMEOUT_MS; a second signal exits at once.

With no SQS_QUEUE_URL (and NODE_ENV not production) it starts local SQS and Kinesis services (with
SINK=caliper-http and no CALIPER_ENDPOINT_URL: local SQS and a local Caliper endpoint), enqueues the
samples, runs until the queue is drained, and prints what arrived.

Options (embedded run only):
  --ingest sqs|https   sqs (default): the samples are sent to the queue directly; https: they are
                       posted as signed JWTs to 'serve' on a loopback port, with a local JWKS and a
                       signing key made at start, as Canvas's HTTPS delivery would
  --output FILE        write every Caliper envelope read back to FILE, one per line (nothing else is
                       written to disk: the run leaves no file of its own behind)

Exit codes: 0 stopped by a signal (or, embedded, the queue drained); 2 configuration or usage error;
130 a second signal.
`;

const SERVE_HELP = `Usage: canvas-caliper serve

The HTTPS ingest for Canvas's "HTTPS - Webhook with JWT signing" delivery (TLS ends at the load
balancer). Each POST to INGEST_PATH carries one live event as a signed JWT: it is verified against
CANVAS_JWKS_URL (the key whose kid the header names; CANVAS_JWT_ALGORITHMS, default RS256; exp, nbf
and iat within CLOCK_TOLERANCE_S), and its raw Canvas event {metadata, body} is enqueued in
SQS_QUEUE_URL, the queue 'canvas-caliper run' reads. The answer is 200 only once SQS accepted it;
401/400 (bad token, not a Canvas event), 413 (over BODY_LIMIT_BYTES), 405 (not POST), 503 (SQS or
the JWKS unavailable: retry) with a one-line JSON reason. /healthz and /metrics on the same port.
Configured by environment variables (see docs/configuration.md); every bad one is reported at once
(exit 2). On SIGTERM or SIGINT it stops accepting, answers the requests in flight and exits 0.
`;

async function runCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(RUN_HELP);
    return 0;
  }
  const { values } = parseOptions({ args: argv, options: { ingest: { type: 'string' }, output: { type: 'string' } } });
  if (values.ingest !== undefined && values.ingest !== 'sqs' && values.ingest !== 'https') throw new UsageError(`--ingest must be sqs or https, not '${values.ingest}'`);
  const { runWorker } = await import('./worker/run.js');
  return runWorker({ env: io.env ?? process.env, stdout: io.stdout, stderr: io.stderr }, { ingest: values.ingest ?? 'sqs', output: values.output });
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


async function eventsCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    await io.stdout(EVENTS_HELP);
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
    for (const row of rows) await io.stdout(`${JSON.stringify(row)}\n`);
    return 0;
  }
  const header = { event_name: 'EVENT_NAME', type: 'CALIPER TYPE', action: 'ACTION', origin: 'ORIGIN', object: 'OBJECT TYPE' };
  const all = [header, ...rows.map((r) => ({ ...r, object: r.object.join(', ') }))];
  const width = (k: keyof typeof header) => Math.max(...all.map((r) => r[k].length));
  const [w1, w2, w3, w4] = [width('event_name'), width('type'), width('action'), width('origin')];
  for (const r of all) await io.stdout(`${r.event_name.padEnd(w1)}  ${r.type.padEnd(w2)}  ${r.action.padEnd(w3)}  ${r.origin.padEnd(w4)}  ${r.object}\n`);
  return 0;
}

async function mapCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions({
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
      'person-map': { type: 'string' },
      iri: { type: 'string' },
      'caliper-types': { type: 'string' },
      navigation: { type: 'string' },
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
  // The identity variables (CALIPER_IRI, PERSON_ID_MAP, …) as the worker reads them, each flag over its variable.
  try {
    const flags = { CALIPER_IRI: values.iri, PERSON_ID_MAP: values['person-map'], CALIPER_EVENT_TYPES: values['caliper-types'], CALIPER_NAVIGATION: values.navigation };
    const identity = await loadIdentity(io.env ?? process.env, flags, { format, privacy: values.privacy, edAppId });
    if (identity.iri) options.iri = identity.iri;
    if (identity.caliperTypes) options.caliperTypes = identity.caliperTypes;
    if (identity.navigation) options.formatOptions = { ...options.formatOptions, navigation: identity.navigation };
  } catch (err) {
    // map takes its format from --format, not from CALIPER_FORMAT: say so where a problem names it.
    if (err instanceof ConfigError) throw new UsageError(err.problems.map((p) => p.replace('CALIPER_FORMAT=caliper-1.2', 'CALIPER_FORMAT=caliper-1.2 (map: --format caliper-1.2)').replace('with CALIPER_IRI=https, CALIPER_EDAPP_ID', 'with CALIPER_IRI=https, CALIPER_EDAPP_ID (map: --edapp-id)')).join('; '));
    throw err;
  }
  if (values['send-time'] !== undefined) options.sendTime = sendTime(values['send-time']);
  const sources = positionals.length ? positionals : ['-'];
  const poster = values.post === undefined ? undefined : await (await import('./post.js')).openPoster(values.post, io.env ?? process.env);
  // Each event read ends as one of these; the last stderr line says how many of each.
  const tally = { mapped: 0, refused: 0, skipped: 0 };
  const refuse = async (report: object) => {
    tally.refused++;
    await io.stderr(`${JSON.stringify(report)}\n`);
  };
  for (const source of sources) {
    const input = source === '-' ? 'stdin' : source;
    try {
      for await (const item of readItems(textOf(source === '-' ? io.stdin() : readFile(source)))) {
        let decoded: Decoded;
        try {
          if (item.error) throw item.error;
          const value = unwrapSns(item.value);
          const eventName = eventNameOf(value);
          if (eventName !== undefined && filter(eventName) === 'skip') {
            tally.skipped++;
            continue;
          }
          try {
            decoded = mapInput(value, options, true); // the item's value is read by nothing after
          } catch (err) {
            // Left out once mapped (CALIPER_EVENT_TYPES, PERSON_ID_UNMAPPED=skip), as --only leaves events out.
            if (!(err instanceof SkippedEvent)) throw err;
            tally.skipped++;
            continue;
          }
        } catch (err) {
          const e = err instanceof MappingError ? err : new MappingError('MAPPER_ERROR', String(err));
          await refuse({ input, position: item.position, line: item.line, event_name: e.eventName, error_code: e.code, error: e.message });
          continue;
        }
        const where = { input, position: item.position, line: item.line, event_name: decoded.eventName };
        if (poster) await poster.post(decoded, (error_code, error) => refuse({ ...where, error_code, error }));
        else {
          await io.stdout(`${serializeEnvelope(decoded.envelope, values.pretty ? 2 : undefined)}\n`);
          tally.mapped++;
        }
      }
    } catch (err) {
      // Output that cannot be written ends the command; an input that cannot be read is that input's error.
      if (err instanceof OutputError) throw err;
      await refuse({ input, error_code: 'READ_ERROR', error: (err as Error).message });
    }
  }
  if (poster) {
    tally.mapped = await poster.finish();
    await io.stderr(`posted ${tally.mapped} events to ${((u) => u.origin + u.pathname)(new URL(values.post!))}\n`);
  }
  await io.stderr(`mapped ${tally.mapped} · refused ${tally.refused} · skipped ${tally.skipped}\n`);
  return tally.refused ? 1 : 0;
}

/** The accepted forms of --send-time, for the message that refuses another. */
const SEND_TIME_FORMS = '2024-01-02 (midnight UTC), 2024-01-02T03:04:05Z, 2024-01-02T03:04:05.678+02:00 (no zone: UTC)';

/**
 * --send-time: an ISO 8601 time, read as Canvas's event_time is (a time without a zone is UTC); a date
 * alone is midnight UTC.
 */
function sendTime(value: string): string {
  try {
    return caliperTime(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value, '--send-time');
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; give one of ${SEND_TIME_FORMS}`);
  }
}
