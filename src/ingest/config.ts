// `canvas-caliper serve`'s configuration from the environment, checked once at start like the worker's
// (src/config.ts): one line per problem, naming the variable, every problem at once.
import { z } from 'zod';
import { int, isLoopback, loadEnv, logFormat, logLevel, metricsMode, numbers, url, whenValid } from '../config.js';

/** The JWKs Instructure publishes for its signed HTTPS live events (Beta and Production), from Canvas's Data Services setup page. */
export const INSTRUCTURE_JWKS_URL = 'https://8axpcl50e4.execute-api.us-east-1.amazonaws.com/main/jwks';

/** The asymmetric JWS algorithms `serve` can be told to accept; never `none` or an HMAC (HS*), whose key would be the public one. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** SQS's largest message (and SendMessageBatch request): 1 MiB. */
export const SQS_MAX_BYTES = 1024 * 1024;

const algorithms = z
  .string()
  .transform((s) => s.split(',').map((a) => a.trim()).filter(Boolean))
  .refine((list) => list.length > 0, 'CANVAS_JWT_ALGORITHMS lists no algorithm')
  .refine((list) => list.every((a) => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)), {
    error: (issue) => `CANVAS_JWT_ALGORITHMS: not an asymmetric JWS algorithm: ${(issue.input as string[]).filter((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a)).join(', ')} (one of ${ASYMMETRIC_ALGORITHMS.join(', ')})`,
  })
  .default(['RS256']);

/** The trust anchor of every signature gets the sink's rules: https, plain http only to this machine (a local signer, the tests). */
const jwksUrl = z
  .string()
  .url('CANVAS_JWKS_URL must be a URL (the JWKS the tokens are signed against)')
  .refine((u) => !URL.canParse(u) || new URL(u).protocol === 'https:' || (new URL(u).protocol === 'http:' && isLoopback(u)), {
    error: (issue) => `CANVAS_JWKS_URL must be https (http only to a loopback address), not ${new URL(issue.input as string).protocol}//${new URL(issue.input as string).host}`,
  })
  .default(INSTRUCTURE_JWKS_URL);

export const ServeConfigSchema = z
  .object({
    SQS_QUEUE_URL: url('SQS_QUEUE_URL'),
    AWS_REGION: z.string({ error: 'AWS_REGION is required (e.g. us-east-1)' }).min(1, 'AWS_REGION is required (e.g. us-east-1)'),
    CANVAS_JWKS_URL: jwksUrl,
    CANVAS_JWT_ALGORITHMS: algorithms,
    CLOCK_TOLERANCE_S: int('CLOCK_TOLERANCE_S', 30, 0, 300),
    JWKS_COOLDOWN_S: int('JWKS_COOLDOWN_S', 30, 0, 3_600),
    JWKS_CACHE_MAX_AGE_S: int('JWKS_CACHE_MAX_AGE_S', 600, 1, 86_400),
    JWKS_STALE_MAX_AGE_S: int('JWKS_STALE_MAX_AGE_S', 86_400, 0, 7 * 86_400),
    PORT: int('PORT', 8080, 0, 65_535),
    INGEST_PATH: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/, 'INGEST_PATH must be a URL path (e.g. / or /canvas/live-events)')
      .refine((p) => p !== '/healthz' && p !== '/metrics', 'INGEST_PATH must not be /healthz or /metrics (served beside it)')
      .default('/'),
    BODY_LIMIT_BYTES: int('BODY_LIMIT_BYTES', SQS_MAX_BYTES, 1024, SQS_MAX_BYTES),
    ENQUEUE_LINGER_MS: int('ENQUEUE_LINGER_MS', 5, 0, 1_000),
    ENQUEUE_BATCH_MAX_BYTES: int('ENQUEUE_BATCH_MAX_BYTES', 256 * 1024, 1024, SQS_MAX_BYTES),
    ENQUEUE_RETRY_BUDGET_MS: int('ENQUEUE_RETRY_BUDGET_MS', 5_000, 0, 60_000),
    KEEP_ALIVE_TIMEOUT_S: int('KEEP_ALIVE_TIMEOUT_S', 65, 1, 3_600),
    SHUTDOWN_TIMEOUT_MS: int('SHUTDOWN_TIMEOUT_MS', 25_000, 100, 3_600_000),
    UNHEALTHY_AFTER_S: int('UNHEALTHY_AFTER_S', 30, 1, 86_400),
    STATS_INTERVAL_S: int('STATS_INTERVAL_S', 60, 1, 86_400),
    LOG_LEVEL: logLevel,
    LOG_FORMAT: logFormat,
    METRICS: metricsMode,
  })
  .refine((c) => c.ENQUEUE_RETRY_BUDGET_MS < c.SHUTDOWN_TIMEOUT_MS, {
    path: ['ENQUEUE_RETRY_BUDGET_MS'],
    error: ({ input }) => `ENQUEUE_RETRY_BUDGET_MS (${numbers(input).ENQUEUE_RETRY_BUDGET_MS}) must be below SHUTDOWN_TIMEOUT_MS (${numbers(input).SHUTDOWN_TIMEOUT_MS}): a request in flight at SIGTERM must get its answer`,
    when: whenValid('ENQUEUE_RETRY_BUDGET_MS', 'SHUTDOWN_TIMEOUT_MS'),
  });

export type ServeConfig = z.infer<typeof ServeConfigSchema>;

/** Reads `serve`'s configuration; throws a ConfigError listing every bad or missing variable. */
export const loadServeConfig = (env: NodeJS.ProcessEnv): ServeConfig => loadEnv(ServeConfigSchema, env);
