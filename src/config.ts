// Worker configuration from the environment (12-factor), checked once at start: a bad or missing
// value stops the worker with one line per problem, naming the variable, every problem at once.
import { z } from 'zod';
import { caliperTypeFilter, eventNameList, unknownCaliperTypes, unknownEventNames } from './filter.js';
import { NAVIGATION_STYLES } from './formats/caliper12.js';
import { IRI_STYLES } from './iri.js';
import { openPersonMap, PersonMapError, s3Location, UNMAPPED_POLICIES, type PersonMap, type S3Like } from './person-map.js';
import type { MapOptions } from './engine.js';
import { DEFAULT_FORMAT, FORMATS } from './formats/index.js';
import { parseKey, privacyOf, readKeySecret, type PrivacyConfig } from './privacy/key.js';
import { POLICIES, type Privacy } from './privacy/policy.js';

export const int = (name: string, def: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(def);

const eventTypes = (name: string) =>
  z
    .string()
    .transform(eventNameList)
    .refine((names) => names.length > 0, `${name} lists no event type`)
    .refine((names) => !unknownEventNames(names).length, {
      error: (issue) => `${name}: no such event type: ${unknownEventNames(issue.input as string[]).join(', ')} (\`canvas-caliper events\` lists them)`,
    })
    .optional();

/** CALIPER_EVENT_TYPES: Caliper event types, or Type.Action. */
const caliperTypes = z
  .string()
  .transform(eventNameList)
  .refine((names) => names.length > 0, 'CALIPER_EVENT_TYPES lists no Caliper type')
  .refine((names) => !unknownCaliperTypes(names).length, {
    error: (issue) => `CALIPER_EVENT_TYPES: not a Caliper event type or Type.Action: ${unknownCaliperTypes(issue.input as string[]).join(', ')} (e.g. SessionEvent,GradeEvent.Graded,ViewEvent.Viewed)`,
  })
  .optional();

// The IRIs published and the person identity map (src/iri.ts, src/person-map.ts, docs/timeback.md):
// the worker's, `replay-dlq --direct`'s and `map`'s.
const IDENTITY_SHAPE = {
  CALIPER_IRI: z.enum(IRI_STYLES, { error: `CALIPER_IRI must be ${IRI_STYLES.join(' or ')}` }).default('urn'),
  CALIPER_IRI_HOST: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i, 'CALIPER_IRI_HOST must be a host name (canvas.example.edu), without scheme or path')
    .optional(),
  PERSON_ID_MAP: z
    .string()
    .refine((v) => !v.startsWith('s3:') || s3Location(v), 'PERSON_ID_MAP must be a CSV file path or s3://bucket/key')
    .optional(),
  PERSON_ID_MAP_REFRESH_S: int('PERSON_ID_MAP_REFRESH_S', 300, 10, 86_400),
  PERSON_ID_UNMAPPED: z.enum(UNMAPPED_POLICIES, { error: `PERSON_ID_UNMAPPED must be ${UNMAPPED_POLICIES.join(', ')}` }).optional(),
  CALIPER_EVENT_TYPES: caliperTypes,
  CALIPER_NAVIGATION: z.enum(NAVIGATION_STYLES, { error: `CALIPER_NAVIGATION must be ${NAVIGATION_STYLES.join(' or ')}` }).optional(),
};
const IDENTITY_NAMES = Object.keys(IDENTITY_SHAPE);

type IdentityConfig = z.infer<z.ZodObject<typeof IDENTITY_SHAPE>> & { CALIPER_FORMAT: string; PRIVACY?: string; CALIPER_EDAPP_ID?: string };

/** The cross-field checks of the identity variables: options of another setting are errors, not ignored. */
function identityProblems(c: IdentityConfig, ctx: { addIssue: (issue: { code: 'custom'; path: string[]; message: string; input: unknown }) => void }): void {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, input: undefined });
  if (c.CALIPER_IRI_HOST !== undefined && c.CALIPER_IRI !== 'https') problem('CALIPER_IRI_HOST', 'CALIPER_IRI_HOST is an option of CALIPER_IRI=https');
  if (c.PERSON_ID_MAP === undefined && c.PERSON_ID_UNMAPPED !== undefined) problem('PERSON_ID_UNMAPPED', 'PERSON_ID_UNMAPPED is an option of PERSON_ID_MAP (no map is set)');
  // Every IRI https makes is https:// or urn:uuid:; the edApp id is given, so it is checked here.
  if (c.CALIPER_IRI === 'https' && c.CALIPER_EDAPP_ID !== undefined && !/^(https:\/\/|urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)/.test(c.CALIPER_EDAPP_ID)) {
    problem('CALIPER_EDAPP_ID', 'with CALIPER_IRI=https, CALIPER_EDAPP_ID must be an https:// IRI or urn:uuid:<uuid> in lower case (the IRIs such a platform takes)');
  }
  if (c.CALIPER_NAVIGATION !== undefined && c.CALIPER_FORMAT !== 'caliper-1.2') problem('CALIPER_NAVIGATION', 'CALIPER_NAVIGATION is an option of CALIPER_FORMAT=caliper-1.2');
  // The map joins on Canvas's own user ids; a privacy policy replaces them with pseudonyms first.
  if (c.PERSON_ID_MAP !== undefined && c.PRIVACY !== undefined && c.PRIVACY !== 'keep') {
    problem('PERSON_ID_MAP', `PERSON_ID_MAP cannot be combined with PRIVACY=${c.PRIVACY}: the map pairs Canvas user ids with the platform's, and the policy replaces those ids with pseudonyms (docs/timeback.md)`);
  }
}

/** A cross-field check runs once its own variables are valid, whatever else is wrong. */
export const whenValid =
  (...names: string[]) =>
  (payload: { issues: { path?: PropertyKey[] }[] }) =>
    !payload.issues.some((issue) => names.includes(String(issue.path?.[0])));

/** pino's levels. */
export const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'LOG_LEVEL must be trace, debug, info, warn, error, fatal or silent' }).default('info');

/** How logs are written: `auto` is `pretty` when stdout is a terminal, else `json` (src/worker/log.ts). */
export const logFormat = z.enum(['auto', 'json', 'pretty'], { error: 'LOG_FORMAT must be auto, json or pretty' }).default('auto');

/** Whether the stats line carries CloudWatch EMF metrics: `auto` is `emf` in ECS with JSON logs, else `none` (src/worker/log.ts). */
export const metricsMode = z.enum(['auto', 'emf', 'none'], { error: 'METRICS must be auto, emf or none' }).default('auto');

export const numbers = (input: unknown) => input as Record<string, number>;

export const url = (name: string) => z.string().url(`${name} must be a URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)`);

export const SINKS = ['kinesis', 'caliper-http'] as const;

/** 127.0.0.0/8, ::1 and localhost: where plain http needs no opt-in. */
export const isLoopback = (url: string): boolean => /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(new URL(url).hostname);

/** An http(s) URL without credentials or fragment; its checks stop at the first failure (a text that is no URL gets one line, not a stack). */
const httpUrl = (name: string, example: string, credentials: string) =>
  z
    .string()
    .url({ message: `${name} must be a URL (${example})`, abort: true })
    .refine((u) => /^https?:$/.test(new URL(u).protocol), { message: `${name} must be an https (or http) URL`, abort: true })
    .refine((u) => !new URL(u).username && !new URL(u).password, `${name} must not hold credentials (user:password@): ${credentials}`)
    .refine((u) => !new URL(u).hash, `${name} must not have a #fragment`);

const endpointUrl = httpUrl('CALIPER_ENDPOINT_URL', 'https://lrs.example.edu/caliper', 'use CALIPER_ENDPOINT_TOKEN');

/** The OAuth 2.0 token endpoint: https, plain http only to loopback (a client secret never crosses a network in clear). */
const tokenUrl = httpUrl('CALIPER_ENDPOINT_TOKEN_URL', 'https://platform.example/oauth/token', 'use CALIPER_ENDPOINT_CLIENT_ID and CALIPER_ENDPOINT_CLIENT_SECRET').refine(
  (u) => u.startsWith('https:') || isLoopback(u),
  'CALIPER_ENDPOINT_TOKEN_URL must be https (http only to a loopback address)',
);

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

/** The ways the sink gets its bearer token: exactly one is set with SINK=caliper-http. */
const TOKEN_SOURCES = ['CALIPER_ENDPOINT_TOKEN', 'CALIPER_ENDPOINT_TOKEN_SECRET_ARN', 'CALIPER_ENDPOINT_TOKEN_URL'] as const;
/** OAuth 2.0 client credentials' options: only with CALIPER_ENDPOINT_TOKEN_URL. */
const OAUTH_OPTIONS = ['CALIPER_ENDPOINT_CLIENT_ID', 'CALIPER_ENDPOINT_CLIENT_SECRET', 'CALIPER_ENDPOINT_CLIENT_SECRET_ARN', 'CALIPER_ENDPOINT_SCOPE', 'CALIPER_ENDPOINT_AUTH_METHOD'] as const;

/** Headers the sink sets itself: not overridable. */
const OWN_HEADERS = ['authorization', 'content-type', 'content-length', 'host', 'transfer-encoding', 'connection'];

const extraHeaders = z.string().transform((text, ctx) => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'CALIPER_ENDPOINT_HEADERS must be a JSON object of header names to strings ({"X-Api-Key": "..."})' });
    return z.NEVER;
  }
  const entries = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : undefined;
  const bad = entries?.filter(([k, v]) => typeof v !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n]/.test(v)).map(([k]) => k);
  const own = entries?.filter(([k]) => OWN_HEADERS.includes(k.toLowerCase())).map(([k]) => k);
  if (!entries || bad?.length || own?.length) {
    ctx.addIssue({
      code: 'custom',
      message: !entries
        ? 'CALIPER_ENDPOINT_HEADERS must be a JSON object of header names to strings'
        : bad?.length
          ? `CALIPER_ENDPOINT_HEADERS: not a header name with a one-line string value: ${bad.join(', ')}`
          : `CALIPER_ENDPOINT_HEADERS: the sink sets ${own!.join(', ')} itself`,
    });
    return z.NEVER;
  }
  return Object.fromEntries(entries) as Record<string, string>;
});

// The privacy policy (src/privacy, docs/privacy.md) and its key: the worker's and `map --privacy`'s.
const PRIVACY_SHAPE = {
  PRIVACY: z.enum(POLICIES, { error: `PRIVACY must be ${POLICIES.join(', ')}` }).default('keep'),
  PRIVACY_KEY: z
    .string()
    .superRefine((text, ctx) => {
      try {
        parseKey(text, 'PRIVACY_KEY');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message, input: undefined });
      }
    })
    .optional(),
  PRIVACY_KEY_SECRET_ARN: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'PRIVACY_KEY_SECRET_ARN must be a Secrets Manager secret ARN').optional(),
  PRIVACY_KEY_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'PRIVACY_KEY_ID must be 1 to 64 letters, digits, ".", "_", ":" or "-"').optional(),
  PRIVACY_IP: z.enum(['truncate', 'drop'], { error: 'PRIVACY_IP must be truncate or drop' }).optional(),
  PRIVACY_KEEP_TEXT: z.enum(['0', '1'], { error: 'PRIVACY_KEEP_TEXT must be 0 or 1' }).optional(),
};

const PRIVACY_NAMES = Object.keys(PRIVACY_SHAPE);
const PRIVACY_OPTIONS = ['PRIVACY_KEY', 'PRIVACY_KEY_SECRET_ARN', 'PRIVACY_KEY_ID', 'PRIVACY_IP', 'PRIVACY_KEEP_TEXT'] as const;

/** The cross-field checks of the privacy variables: a policy other than keep needs one key; options of another policy are errors, not ignored. */
function privacyProblems(c: PrivacyConfig, ctx: { addIssue: (issue: { code: 'custom'; path: string[]; message: string; input: unknown }) => void }): void {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, input: undefined });
  if (c.PRIVACY !== 'keep' && (c.PRIVACY_KEY === undefined) === (c.PRIVACY_KEY_SECRET_ARN === undefined)) {
    problem('PRIVACY_KEY', `PRIVACY=${c.PRIVACY} needs exactly one of PRIVACY_KEY and PRIVACY_KEY_SECRET_ARN (the pseudonyms' key)`);
  }
  const set = PRIVACY_OPTIONS.filter((name) => c[name] !== undefined);
  if (c.PRIVACY === 'keep' && set.length) problem('PRIVACY', `${set.join(', ')}: options of PRIVACY=pseudonymise or drop (PRIVACY is keep)`);
  if (c.PRIVACY === 'drop' && (c.PRIVACY_IP !== undefined || c.PRIVACY_KEEP_TEXT !== undefined)) {
    problem('PRIVACY', 'PRIVACY_IP and PRIVACY_KEEP_TEXT are options of PRIVACY=pseudonymise (drop removes IP addresses and free text)');
  }
}

/** The cross-field checks of OAuth 2.0 client credentials: a client id and exactly one client secret with a token URL; none of its options without one. */
function oauthProblems(
  c: Partial<Record<(typeof TOKEN_SOURCES)[number] | (typeof OAUTH_OPTIONS)[number], string>>,
  ctx: { addIssue: (issue: { code: 'custom'; path: string[]; message: string; input: unknown }) => void },
): void {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, input: undefined });
  if (c.CALIPER_ENDPOINT_TOKEN_URL === undefined) {
    const set = OAUTH_OPTIONS.filter((name) => c[name] !== undefined);
    if (set.length) problem('CALIPER_ENDPOINT_TOKEN_URL', `${set.join(', ')}: options of OAuth 2.0 client credentials, which need CALIPER_ENDPOINT_TOKEN_URL`);
    return;
  }
  if ((c.CALIPER_ENDPOINT_CLIENT_SECRET === undefined) === (c.CALIPER_ENDPOINT_CLIENT_SECRET_ARN === undefined)) {
    problem('CALIPER_ENDPOINT_CLIENT_SECRET', 'CALIPER_ENDPOINT_TOKEN_URL needs exactly one of CALIPER_ENDPOINT_CLIENT_SECRET and CALIPER_ENDPOINT_CLIENT_SECRET_ARN');
  }
  // With the secret in Secrets Manager, its JSON may hold the client id.
  if (c.CALIPER_ENDPOINT_CLIENT_SECRET !== undefined && c.CALIPER_ENDPOINT_CLIENT_ID === undefined) {
    problem('CALIPER_ENDPOINT_CLIENT_ID', 'CALIPER_ENDPOINT_TOKEN_URL needs CALIPER_ENDPOINT_CLIENT_ID (the client id the platform gave you)');
  }
}

export const ConfigSchema = z
  .object({
    SQS_QUEUE_URL: url('SQS_QUEUE_URL'),
    KINESIS_STREAM_NAME: z.string().min(1).optional(),
    KINESIS_STREAM_ARN: z.string().regex(/^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/.+$/, 'KINESIS_STREAM_ARN must be a Kinesis stream ARN').optional(),
    DLQ_URL: url('DLQ_URL').optional(),
    AWS_REGION: z.string({ error: 'AWS_REGION is required (e.g. us-east-1)' }).min(1, 'AWS_REGION is required (e.g. us-east-1)'),
    MAX_IN_FLIGHT: int('MAX_IN_FLIGHT', 500, 10, 100_000),
    POLLERS: int('POLLERS', 4, 1, 64),
    RECEIVE_WAIT_TIME_S: int('RECEIVE_WAIT_TIME_S', 20, 0, 20),
    BATCH_MAX_RECORDS: int('BATCH_MAX_RECORDS', 500, 1, 500),
    BATCH_MAX_BYTES: int('BATCH_MAX_BYTES', 5 * 1024 * 1024, 1024, 5 * 1024 * 1024),
    BATCH_LINGER_MS: int('BATCH_LINGER_MS', 50, 0, 10_000),
    RETRY_BUDGET_MS: int('RETRY_BUDGET_MS', 60_000, 100, 3_600_000),
    VISIBILITY_TIMEOUT_S: int('VISIBILITY_TIMEOUT_S', 120, 10, 43_200),
    HEARTBEAT_INTERVAL_S: int('HEARTBEAT_INTERVAL_S', 10, 1, 3_600),
    SHUTDOWN_TIMEOUT_MS: int('SHUTDOWN_TIMEOUT_MS', 25_000, 100, 3_600_000),
    PARTITION_KEY: z.enum(['actor', 'object'], { error: 'PARTITION_KEY must be actor or object' }).default('actor'),
    EVENT_ID: z.enum(['deterministic', 'random'], { error: 'EVENT_ID must be deterministic or random' }).default('deterministic'),
    LOG_LEVEL: logLevel,
    LOG_FORMAT: logFormat,
    METRICS: metricsMode,
    // Unset: 5000, or RETRY_BUDGET_MS when that is less (awsCallTimeoutMs).
    AWS_CALL_TIMEOUT_MS: z.coerce
      .number({ error: 'AWS_CALL_TIMEOUT_MS must be a number' })
      .int('AWS_CALL_TIMEOUT_MS must be a whole number')
      .min(100, 'AWS_CALL_TIMEOUT_MS must be at least 100')
      .max(120_000, 'AWS_CALL_TIMEOUT_MS must be at most 120000')
      .optional(),
    HEALTH_PORT: int('HEALTH_PORT', 8080, 0, 65_535),
    STATS_INTERVAL_S: int('STATS_INTERVAL_S', 60, 1, 86_400),
    UNHEALTHY_AFTER_S: int('UNHEALTHY_AFTER_S', 60, 1, 86_400),
    EVENT_TYPES: eventTypes('EVENT_TYPES'),
    EXCLUDE_EVENT_TYPES: eventTypes('EXCLUDE_EVENT_TYPES'),
    UNKNOWN_EVENTS: z.enum(['dlq', 'skip'], { error: 'UNKNOWN_EVENTS must be dlq or skip' }).default('dlq'),
    // The output format (src/formats) and caliper-1.2's options.
    CALIPER_FORMAT: z.enum(FORMATS, { error: `CALIPER_FORMAT must be ${FORMATS.join(', ')}` }).default(DEFAULT_FORMAT),
    CALIPER_EDAPP_ID: z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/, 'CALIPER_EDAPP_ID must be an absolute IRI (e.g. https://platform.example/apps/canvas)').optional(),
    CALIPER_SESSION: z.enum(['auto-attach'], { error: 'CALIPER_SESSION must be auto-attach (or unset)' }).optional(),
    // The destination (src/worker/sink.ts): a Kinesis stream, or a Caliper endpoint (the Sensor API).
    SINK: z.enum(SINKS, { error: `SINK must be ${SINKS.join(' or ')}` }).default('kinesis'),
    CALIPER_ENDPOINT_URL: endpointUrl.optional(),
    CALIPER_ENDPOINT_ALLOW_HTTP: z.enum(['true', 'false'], { error: 'CALIPER_ENDPOINT_ALLOW_HTTP must be true or false' }).default('false'),
    // Never echoed: no message below quotes its value.
    CALIPER_ENDPOINT_TOKEN: z.string().regex(/^[\x21-\x7e]+$/, 'CALIPER_ENDPOINT_TOKEN must be one word of printable ASCII (the bearer token)').optional(),
    CALIPER_ENDPOINT_TOKEN_SECRET_ARN: z.string().regex(SECRET_ARN, 'CALIPER_ENDPOINT_TOKEN_SECRET_ARN must be a Secrets Manager secret ARN').optional(),
    // OAuth 2.0 client credentials (src/worker/token.ts). Never echoed: no message below quotes the secret.
    CALIPER_ENDPOINT_TOKEN_URL: tokenUrl.optional(),
    CALIPER_ENDPOINT_CLIENT_ID: z.string().regex(/^[\x20-\x7e]+$/, 'CALIPER_ENDPOINT_CLIENT_ID must be printable ASCII').optional(),
    CALIPER_ENDPOINT_CLIENT_SECRET: z.string().regex(/^[\x20-\x7e]+$/, 'CALIPER_ENDPOINT_CLIENT_SECRET must be printable ASCII').optional(),
    CALIPER_ENDPOINT_CLIENT_SECRET_ARN: z.string().regex(SECRET_ARN, 'CALIPER_ENDPOINT_CLIENT_SECRET_ARN must be a Secrets Manager secret ARN').optional(),
    CALIPER_ENDPOINT_SCOPE: z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'CALIPER_ENDPOINT_SCOPE must be scope tokens separated by single spaces (RFC 6749 §3.3)').optional(),
    CALIPER_ENDPOINT_AUTH_METHOD: z.enum(['client_secret_basic', 'client_secret_post'], { error: 'CALIPER_ENDPOINT_AUTH_METHOD must be client_secret_basic or client_secret_post' }).optional(),
    CALIPER_ENDPOINT_HEADERS: extraHeaders.optional(),
    HTTP_TIMEOUT_MS: int('HTTP_TIMEOUT_MS', 10_000, 100, 300_000),
    HTTP_BATCH_MAX_EVENTS: int('HTTP_BATCH_MAX_EVENTS', 100, 1, 10_000),
    HTTP_BATCH_MAX_BYTES: int('HTTP_BATCH_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    HTTP_BATCH_LINGER_MS: int('HTTP_BATCH_LINGER_MS', 50, 0, 10_000),
    HTTP_MAX_IN_FLIGHT: int('HTTP_MAX_IN_FLIGHT', 8, 1, 256),
    ...PRIVACY_SHAPE,
    ...IDENTITY_SHAPE,
  })
  .refine((c) => c.SINK !== 'caliper-http' || c.CALIPER_ENDPOINT_URL, {
    path: ['CALIPER_ENDPOINT_URL'],
    message: 'CALIPER_ENDPOINT_URL is required with SINK=caliper-http',
    when: whenValid('SINK', 'CALIPER_ENDPOINT_URL'),
  })
  .refine((c) => !c.CALIPER_ENDPOINT_URL || c.CALIPER_ENDPOINT_URL.startsWith('https:') || isLoopback(c.CALIPER_ENDPOINT_URL) || c.CALIPER_ENDPOINT_ALLOW_HTTP === 'true', {
    path: ['CALIPER_ENDPOINT_URL'],
    message: 'CALIPER_ENDPOINT_URL must be https (http only to a loopback address, or with CALIPER_ENDPOINT_ALLOW_HTTP=true)',
    when: whenValid('CALIPER_ENDPOINT_URL', 'CALIPER_ENDPOINT_ALLOW_HTTP'),
  })
  .refine((c) => c.SINK !== 'caliper-http' || TOKEN_SOURCES.filter((name) => c[name] !== undefined).length === 1, {
    path: ['CALIPER_ENDPOINT_TOKEN'],
    message: 'one of CALIPER_ENDPOINT_TOKEN, CALIPER_ENDPOINT_TOKEN_SECRET_ARN or CALIPER_ENDPOINT_TOKEN_URL (OAuth 2.0 client credentials) is required with SINK=caliper-http',
    when: whenValid('SINK', ...TOKEN_SOURCES),
  })
  .superRefine(oauthProblems, { when: whenValid(...TOKEN_SOURCES, ...OAUTH_OPTIONS) })
  .refine((c) => c.SINK !== 'caliper-http' || c.HTTP_TIMEOUT_MS < c.RETRY_BUDGET_MS, {
    path: ['HTTP_TIMEOUT_MS'],
    error: ({ input }) => `HTTP_TIMEOUT_MS (${numbers(input).HTTP_TIMEOUT_MS}) must be below RETRY_BUDGET_MS (${numbers(input).RETRY_BUDGET_MS})`,
    when: whenValid('SINK', 'HTTP_TIMEOUT_MS', 'RETRY_BUDGET_MS'),
  })
  // An attempt that cannot end inside the budget would hold its message past it.
  .refine((c) => c.AWS_CALL_TIMEOUT_MS === undefined || c.AWS_CALL_TIMEOUT_MS <= c.RETRY_BUDGET_MS, {
    path: ['AWS_CALL_TIMEOUT_MS'],
    error: ({ input }) => `AWS_CALL_TIMEOUT_MS (${numbers(input).AWS_CALL_TIMEOUT_MS}) must be at most RETRY_BUDGET_MS (${numbers(input).RETRY_BUDGET_MS}): one attempt of an AWS call must fit in the retry budget`,
    when: whenValid('AWS_CALL_TIMEOUT_MS', 'RETRY_BUDGET_MS'),
  })
  .refine((c) => c.SINK !== 'kinesis' || c.KINESIS_STREAM_NAME || c.KINESIS_STREAM_ARN, {
    path: ['KINESIS_STREAM_NAME'],
    // CALIPER_ENDPOINT_URL without SINK: the one variable they forgot.
    error: ({ input }) => `KINESIS_STREAM_NAME or KINESIS_STREAM_ARN is required${(input as { CALIPER_ENDPOINT_URL?: string }).CALIPER_ENDPOINT_URL ? ' (CALIPER_ENDPOINT_URL is set: for a Caliper endpoint set SINK=caliper-http)' : ''}`,
    when: whenValid('SINK', 'KINESIS_STREAM_NAME', 'KINESIS_STREAM_ARN'),
  })
  // The retry budget must end well before SQS makes the message visible again (ours to extend,
  // but a crash must not leave a message invisible for longer than the budget).
  .refine((c) => c.HEARTBEAT_INTERVAL_S * 4 <= c.VISIBILITY_TIMEOUT_S, {
    path: ['HEARTBEAT_INTERVAL_S'],
    error: ({ input }) => `HEARTBEAT_INTERVAL_S (${numbers(input).HEARTBEAT_INTERVAL_S}) must be at most 1/4 of VISIBILITY_TIMEOUT_S (${numbers(input).VISIBILITY_TIMEOUT_S} s)`,
    when: whenValid('HEARTBEAT_INTERVAL_S', 'VISIBILITY_TIMEOUT_S'),
  })
  .refine((c) => c.RETRY_BUDGET_MS < c.VISIBILITY_TIMEOUT_S * 1000 * 0.75, {
    path: ['RETRY_BUDGET_MS'],
    error: ({ input }) => `RETRY_BUDGET_MS (${numbers(input).RETRY_BUDGET_MS}) must be below 3/4 of VISIBILITY_TIMEOUT_S (${numbers(input).VISIBILITY_TIMEOUT_S} s)`,
    when: whenValid('RETRY_BUDGET_MS', 'VISIBILITY_TIMEOUT_S'),
  })
  .refine((c) => !c.EVENT_TYPES || c.EVENT_TYPES.some((name) => !c.EXCLUDE_EVENT_TYPES?.includes(name)), {
    path: ['EVENT_TYPES'],
    message: 'EVENT_TYPES and EXCLUDE_EVENT_TYPES together leave no event type to publish',
    when: whenValid('EVENT_TYPES', 'EXCLUDE_EVENT_TYPES'),
  })
  .refine((c) => c.CALIPER_FORMAT === 'caliper-1.2' || (c.CALIPER_EDAPP_ID === undefined && c.CALIPER_SESSION === undefined), {
    path: ['CALIPER_FORMAT'],
    message: 'CALIPER_EDAPP_ID and CALIPER_SESSION are options of CALIPER_FORMAT=caliper-1.2',
    when: whenValid('CALIPER_FORMAT', 'CALIPER_EDAPP_ID', 'CALIPER_SESSION'),
  })
  .superRefine(privacyProblems, { when: whenValid(...PRIVACY_NAMES) })
  .superRefine(identityProblems, { when: whenValid(...IDENTITY_NAMES, 'CALIPER_FORMAT', 'PRIVACY', 'CALIPER_EDAPP_ID') });

export type Config = z.infer<typeof ConfigSchema> & {
  /** The privacy policy with its key, once the key is known (loadConfig with PRIVACY_KEY; withPrivacyKey with the secret). */
  privacy?: Privacy;
  /** PERSON_ID_MAP, once read (withPersonMap). */
  personMap?: PersonMap;
};

/**
 * One attempt's deadline for the worker's AWS calls: AWS_CALL_TIMEOUT_MS, else 5 s or the retry
 * budget, whichever is less. Not shorter by default: an attempt cut while the service is merely slow
 * is work done twice (the service finishes it anyway), and its retry adds to the load that slowed it.
 */
export const awsCallTimeoutMs = (c: Pick<Config, 'AWS_CALL_TIMEOUT_MS' | 'RETRY_BUDGET_MS'>): number => c.AWS_CALL_TIMEOUT_MS ?? Math.min(5_000, c.RETRY_BUDGET_MS);

/** How the worker and `replay-dlq --direct` map: the event id mode, the output format and its options, the privacy policy. */
export function mapOptions(
  config: Pick<Config, 'EVENT_ID' | 'CALIPER_FORMAT' | 'CALIPER_EDAPP_ID' | 'CALIPER_SESSION'> &
    Partial<Pick<Config, 'PRIVACY' | 'privacy' | 'CALIPER_IRI' | 'CALIPER_IRI_HOST' | 'PERSON_ID_MAP' | 'PERSON_ID_UNMAPPED' | 'personMap' | 'CALIPER_EVENT_TYPES' | 'CALIPER_NAVIGATION'>>,
): MapOptions {
  // Never silently keep: a policy other than keep without its key (the secret not read yet) is a bug here.
  if (config.PRIVACY !== undefined && config.PRIVACY !== 'keep' && !config.privacy) throw new Error(`PRIVACY=${config.PRIVACY}: the key was not read (withPrivacyKey)`);
  // Nor silently unmapped: a map that was not read is a bug here too.
  if (config.PERSON_ID_MAP !== undefined && !config.personMap) throw new Error('PERSON_ID_MAP: the map was not read (withPersonMap)');
  const options: MapOptions = {
    eventId: config.EVENT_ID,
    format: config.CALIPER_FORMAT,
    formatOptions: { edAppId: config.CALIPER_EDAPP_ID, session: config.CALIPER_SESSION },
    privacy: config.privacy,
  };
  // Only what is set, so that a configuration without these options maps as it always did.
  if (config.CALIPER_NAVIGATION) options.formatOptions!.navigation = config.CALIPER_NAVIGATION;
  if (config.CALIPER_EVENT_TYPES) options.caliperTypes = caliperTypeFilter(config.CALIPER_EVENT_TYPES);
  if (config.CALIPER_IRI === 'https' || config.personMap) {
    options.iri = { style: config.CALIPER_IRI ?? 'urn', host: config.CALIPER_IRI_HOST, persons: config.personMap, unmapped: config.PERSON_ID_UNMAPPED ?? 'dlq' };
  }
  return options;
}

/**
 * The configuration with PERSON_ID_MAP read (a file, or an S3 object in AWS_REGION): once, at start;
 * a map that cannot be read or is malformed is a ConfigError naming the source (and the line).
 */
export async function withPersonMap(config: Config, s3?: S3Like): Promise<Config> {
  if (config.PERSON_ID_MAP === undefined || config.personMap) return config;
  try {
    return { ...config, personMap: await openPersonMap(config.PERSON_ID_MAP, config.AWS_REGION, s3) };
  } catch (err) {
    if (err instanceof PersonMapError) throw new ConfigError([err.message]);
    throw err;
  }
}

/**
 * The configuration with its privacy policy ready: with PRIVACY_KEY_SECRET_ARN, the secret read from
 * Secrets Manager (once, at start). Throws a ConfigError naming the ARN when it cannot be read or is
 * not a key.
 */
export async function withPrivacyKey(config: Config, read: (arn: string) => Promise<Buffer> = readKeySecret): Promise<Config> {
  if (config.PRIVACY === 'keep' || config.privacy || config.PRIVACY_KEY_SECRET_ARN === undefined) return config;
  try {
    return { ...config, privacy: privacyOf(config, await read(config.PRIVACY_KEY_SECRET_ARN)) };
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Reads the worker's configuration; throws a ConfigError listing every bad or missing variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const config = loadEnv(ConfigSchema, env);
  return config.PRIVACY_KEY === undefined ? config : { ...config, privacy: privacyOf(config) };
}

/**
 * `map`'s privacy policy: the privacy variables of the environment (PRIVACY, PRIVACY_KEY, …), with
 * `policy` (`--privacy`) over PRIVACY when given, checked as the worker checks them (any PRIVACY_* with
 * keep, explicit or by default, is an error), the key read (from Secrets Manager too); undefined for keep.
 */
export async function loadPrivacy(env: NodeJS.ProcessEnv, policy?: string, read: (arn: string) => Promise<Buffer> = readKeySecret): Promise<Privacy | undefined> {
  const config = loadEnv(PrivacySchema, policy === undefined ? env : { ...env, PRIVACY: policy });
  return (await withPrivacyKey(config as Config, read)).privacy ?? privacyOf(config);
}

/** `map`'s flags for the identity variables: each overrides its variable. */
export interface IdentityFlags {
  CALIPER_IRI?: string;
  PERSON_ID_MAP?: string;
  CALIPER_EVENT_TYPES?: string;
  CALIPER_NAVIGATION?: string;
}

/**
 * `map`: the identity variables of the environment (CALIPER_IRI, PERSON_ID_MAP, …, CALIPER_NAVIGATION)
 * with the flags over them, checked as the worker checks them (with map's own --format, --privacy and
 * --edapp-id), the map read: the MapOptions they give. Throws a ConfigError listing every problem.
 */
export async function loadIdentity(
  env: NodeJS.ProcessEnv,
  flags: IdentityFlags,
  mapFlags: { format: string; privacy?: string; edAppId?: string },
  s3?: S3Like,
): Promise<Pick<MapOptions, 'iri' | 'caliperTypes'> & { navigation?: 'navigation' | 'view' }> {
  const set = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const config = loadEnv(IdentitySchema, { ...env, ...set, CALIPER_FORMAT: mapFlags.format, PRIVACY: mapFlags.privacy, CALIPER_EDAPP_ID: mapFlags.edAppId });
  const withMap = await withPersonMap({ ...config, AWS_REGION: env.AWS_REGION } as Config, s3);
  const options = mapOptions({ ...withMap, EVENT_ID: 'deterministic', CALIPER_FORMAT: 'instructure', CALIPER_EDAPP_ID: undefined, CALIPER_SESSION: undefined, PRIVACY: undefined });
  return { iri: options.iri, caliperTypes: options.caliperTypes, navigation: config.CALIPER_NAVIGATION };
}

const IdentitySchema = z
  .object({ ...IDENTITY_SHAPE, CALIPER_FORMAT: z.string(), PRIVACY: z.string().optional(), CALIPER_EDAPP_ID: z.string().optional() })
  .superRefine(identityProblems, { when: whenValid(...IDENTITY_NAMES) });

const PrivacySchema = z.object(PRIVACY_SHAPE).superRefine(privacyProblems, { when: whenValid(...PRIVACY_NAMES) });

/** Reads the variables a schema names from the environment (empty = unset); throws a ConfigError listing every problem. */
export function loadEnv<S extends z.ZodObject | z.ZodPipe<z.ZodObject>>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const shape = 'shape' in schema ? (schema as z.ZodObject).shape : (schema as unknown as { in: z.ZodObject }).in.shape;
  const values = Object.fromEntries(Object.keys(shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const result = schema.safeParse(values);
  if (result.success) return result.data as z.infer<S>;
  throw new ConfigError(
    result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '');
      return i.message.includes(name) ? i.message : `${name}: ${i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message}`;
    }),
  );
}
