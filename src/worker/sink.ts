// Where the worker's records go: one small interface, two destinations (SINK): a Kinesis stream
// (kinesis.ts) or any Caliper endpoint over HTTP, the Caliper Sensor API (caliper-http.ts). The worker,
// `replay-dlq --direct` and `map --post` each get a sink from here and never ask which one it is.
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { MappingError } from '../errors.js';
import { CaliperHttpSink } from './caliper-http.js';
import { describeError, type CallReport } from './faults.js';
import { KinesisPublisher } from './kinesis.js';
import { ClientCredentialsToken, createSecretsClient, readSecret, secretField, secretToken, staticToken, type TokenSource } from './token.js';

export { PublishError } from './kinesis.js';

/** A labelled figure a sink reports for /metrics and the stats line (EMF). */
export interface SinkMetric {
  /** snake_case, without the canvas_caliper_ prefix (Prometheus) */
  name: string;
  /** The EMF metric name (the stats line's delta since the last line); none: Prometheus only. */
  emf?: string;
  labels?: Record<string, string>;
  value: number;
  kind: 'counter' | 'gauge';
  unit: 'Count' | 'Milliseconds' | 'Bytes';
}

export interface Sink {
  /**
   * Publishes one record (a serialised envelope, its `data` last, as decode.ts writes it). Resolves
   * once the destination accepted it; rejects with a PublishError when it was not accepted within
   * `deadline` (epoch ms) or the sink is blocked (the message then stays in SQS), or with a
   * RefusedError when the destination refused this record itself (the message goes to the DLQ).
   */
  put(record: Buffer, key: string, deadline: number): Promise<void>;
  /** Sends what is queued now; resolves when every record put so far is accepted or rejected. */
  drain(): Promise<void>;
  /** Why the worker must stop consuming (the destination refuses our credentials); undefined while all is well. */
  readonly blocked?: string;
  /** What it counts, for /metrics and the stats line. */
  metrics?(): SinkMetric[];
  /** Closes its connections (after drain). */
  close?(): Promise<void>;
}

/** The destination refused this one record for what it holds: it goes to the DLQ with this reason. */
export class RefusedError extends MappingError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('REFUSED_BY_ENDPOINT', message);
  }
}

/** What a sink reports to the worker. */
export interface SinkHooks {
  onRetry?: (reason: string) => void;
  faults?: CallReport;
  logger?: Logger;
}

export type SinkFactory = (hooks: SinkHooks) => Sink;

/** A Kinesis sink over `client`, batching as the configuration says. */
export const kinesisSink =
  (client: KinesisClient, c: Config): SinkFactory =>
  (hooks) =>
    new KinesisPublisher(client, {
      stream: c.KINESIS_STREAM_ARN ? { StreamARN: c.KINESIS_STREAM_ARN } : { StreamName: c.KINESIS_STREAM_NAME },
      maxRecords: c.BATCH_MAX_RECORDS,
      maxBytes: c.BATCH_MAX_BYTES,
      lingerMs: c.BATCH_LINGER_MS,
      onRetry: hooks.onRetry,
      faults: hooks.faults,
    });

/** What the configured destination is called in logs and the stats line's dimension. */
export const destinationOf = (c: Config): { dimension: 'Stream' | 'Endpoint'; name: string } =>
  c.SINK === 'caliper-http'
    ? // Origin and path only: a query string may carry a key.
      { dimension: 'Endpoint', name: ((u) => u.origin + u.pathname)(new URL(c.CALIPER_ENDPOINT_URL!)) }
    : { dimension: 'Stream', name: c.KINESIS_STREAM_NAME ?? c.KINESIS_STREAM_ARN ?? '' };

/** Where the configured sink's parts come from (run.ts, replay-dlq, tests). */
export interface SinkSources {
  kinesis?: KinesisClient;
  /** The Secrets Manager client for CALIPER_ENDPOINT_TOKEN_SECRET_ARN or _CLIENT_SECRET_ARN (default: one for AWS_REGION). */
  secrets?: SecretsManagerClient;
}

/** The token for the Caliper endpoint: CALIPER_ENDPOINT_TOKEN, the secret read now, or OAuth 2.0 client credentials (its client secret read now). */
export async function endpointToken(c: Config, sources: SinkSources = {}): Promise<TokenSource> {
  if (c.CALIPER_ENDPOINT_TOKEN) return staticToken(c.CALIPER_ENDPOINT_TOKEN);
  const arn = c.CALIPER_ENDPOINT_TOKEN_URL ? c.CALIPER_ENDPOINT_CLIENT_SECRET_ARN : c.CALIPER_ENDPOINT_TOKEN_SECRET_ARN;
  const client = arn ? (sources.secrets ?? createSecretsClient(c.AWS_REGION)) : undefined;
  try {
    if (!c.CALIPER_ENDPOINT_TOKEN_URL) return await secretToken(client!, arn!);
    const { id, secret } = arn ? clientIn(await readSecret(client!, arn), arn, c.CALIPER_ENDPOINT_CLIENT_ID) : { id: c.CALIPER_ENDPOINT_CLIENT_ID!, secret: c.CALIPER_ENDPOINT_CLIENT_SECRET! };
    return new ClientCredentialsToken({
      tokenUrl: c.CALIPER_ENDPOINT_TOKEN_URL,
      clientId: id,
      clientSecret: secret,
      scope: c.CALIPER_ENDPOINT_SCOPE,
      method: c.CALIPER_ENDPOINT_AUTH_METHOD ?? 'client_secret_basic',
      timeoutMs: c.HTTP_TIMEOUT_MS,
    });
  } catch (err) {
    const name = c.CALIPER_ENDPOINT_TOKEN_URL ? 'CALIPER_ENDPOINT_CLIENT_SECRET_ARN' : 'CALIPER_ENDPOINT_TOKEN_SECRET_ARN';
    throw new SinkSetupError(`cannot read the Caliper endpoint's ${c.CALIPER_ENDPOINT_TOKEN_URL ? 'client secret' : 'token'} from ${name} (${arn}): ${describeError(err)}`);
  } finally {
    if (!sources.secrets) client?.destroy();
  }
}

/** CALIPER_ENDPOINT_CLIENT_SECRET_ARN's secret: the client secret, or {"client_id", "client_secret"} (its client_id before CALIPER_ENDPOINT_CLIENT_ID). */
function clientIn(text: string | undefined, arn: string, configuredId: string | undefined): { id: string; secret: string } {
  const secret = secretField(text, arn, 'client_secret', 'the client secret, or {"client_id": "...", "client_secret": "..."}');
  const inSecret = text?.trim().startsWith('{') ? (JSON.parse(text) as { client_id?: unknown }).client_id : undefined;
  const id = typeof inSecret === 'string' && inSecret ? inSecret : configuredId;
  if (!id) throw new Error(`the secret ${arn} holds no "client_id" and CALIPER_ENDPOINT_CLIENT_ID is not set`);
  return { id, secret };
}

/** The configured sink could not be set up (its secret could not be read): a configuration problem. */
export class SinkSetupError extends Error {
  override readonly name = 'SinkSetupError';
}

/** A Caliper endpoint sink as the configuration says, with this token. */
export const caliperHttpSink =
  (c: Config, token: TokenSource): SinkFactory =>
  (hooks) =>
    new CaliperHttpSink({
      url: c.CALIPER_ENDPOINT_URL!,
      token,
      headers: c.CALIPER_ENDPOINT_HEADERS,
      timeoutMs: c.HTTP_TIMEOUT_MS,
      maxEvents: c.HTTP_BATCH_MAX_EVENTS,
      maxBytes: c.HTTP_BATCH_MAX_BYTES,
      lingerMs: c.HTTP_BATCH_LINGER_MS,
      maxInFlight: c.HTTP_MAX_IN_FLIGHT,
      onRetry: hooks.onRetry,
      faults: hooks.faults,
    });

/** SINK → how its sink is built. */
const SINKS: Record<Config['SINK'], (c: Config, sources: SinkSources) => Promise<SinkFactory>> = {
  kinesis: async (c, sources) => kinesisSink(sources.kinesis!, c),
  'caliper-http': async (c, sources) => caliperHttpSink(c, await endpointToken(c, sources)),
};

/** The sink SINK names; throws a SinkSetupError when its token cannot be read. */
export const configuredSink = (c: Config, sources: SinkSources): Promise<SinkFactory> => SINKS[c.SINK](c, sources);
