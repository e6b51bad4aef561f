// `canvas-caliper map --post URL`: the envelopes go to a Caliper endpoint through the worker's HTTP
// sink (same batching, retries, splitting and token variables) instead of to stdout. For a person
// sending sample events to a test endpoint from a laptop.
import { ConfigError, loadConfig } from './config.js';
import type { Decoded } from './engine.js';
import { UsageError } from './errors.js';
import { withRecord } from './worker/decode.js';
import { configuredSink, RefusedError, SinkSetupError, type Sink } from './worker/sink.js';

export interface Poster {
  /** Sends one mapped event; `failed` is called (with the error code and message) if the endpoint never accepts it. */
  post(decoded: Decoded, failed: (code: string, message: string) => Promise<void>): Promise<void>;
  /** Waits for every answer; how many events were accepted. */
  finish(): Promise<number>;
}

/** Events waiting for an answer at most: a bounded memory for any input size. */
const OUTSTANDING = 2_000;

/** A problem of the worker's configuration as `map --post` says it: the URL is the flag's, the sink is the one it posts with. */
const asFlag = (problem: string): string => problem.replaceAll('CALIPER_ENDPOINT_URL', 'its URL').replaceAll(' with SINK=caliper-http', ' with --post');

/** The HTTP sink for `url`, configured by the worker's variables (CALIPER_ENDPOINT_TOKEN, _TOKEN_SECRET_ARN or the OAuth client's _TOKEN_URL …, HTTP_*). */
export async function openPoster(url: string, env: NodeJS.ProcessEnv): Promise<Poster> {
  let config;
  try {
    // The worker's own checks; the queue is not used here.
    config = loadConfig({ ...env, SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/unused', AWS_REGION: env.AWS_REGION || 'us-east-1', SINK: 'caliper-http', CALIPER_ENDPOINT_URL: url });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new UsageError(`--post: ${err.problems.map(asFlag).join('; ')}`);
  }
  let sink: Sink;
  try {
    sink = (await configuredSink(config, {}))({});
  } catch (err) {
    if (err instanceof SinkSetupError) throw new UsageError(`--post: ${err.message}`);
    throw err;
  }
  const outstanding = new Set<Promise<void>>();
  let accepted = 0;
  return {
    async post(decoded, failed) {
      while (outstanding.size >= OUTSTANDING) await Promise.race(outstanding);
      const sent: Promise<void> = sink
        .put(withRecord(decoded).record, '', Date.now() + config.RETRY_BUDGET_MS)
        .then(
          () => void accepted++,
          (err: Error) => failed(err instanceof RefusedError ? err.code : 'NOT_DELIVERED', err.message),
        )
        .finally(() => outstanding.delete(sent));
      outstanding.add(sent);
    },
    async finish() {
      await sink.drain();
      await Promise.all(outstanding);
      await sink.close?.();
      return accepted;
    },
  };
}
