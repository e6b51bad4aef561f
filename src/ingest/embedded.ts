// `npm start -- --ingest https`: the samples reach the local queue the way a school on Canvas's HTTPS
// delivery sends them: signed (a key made at start, its JWKS on a loopback port) and posted to `serve`.
import http from 'node:http';
import type { Logger } from 'pino';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '../worker/local.js';
import { startServe } from './command.js';
import { loadServeConfig } from './config.js';
import { post, startLocalSigner } from './local.js';

/** Starts `serve` on a loopback port for `queueUrl`, posts each event as a signed JWT, stops it; resolves with how many were answered 200. */
/** `logger`: serve's log (the embedded run's log, on stderr). */
export async function postSigned(sqs: SQSClient, queueUrl: string, events: object[], logger: Logger): Promise<{ accepted: number; url: string }> {
  const signer = await startLocalSigner();
  const config = loadServeConfig({ SQS_QUEUE_URL: queueUrl, AWS_REGION: LOCAL_REGION, CANVAS_JWKS_URL: signer.url, PORT: '0' });
  const serving = await startServe(config, sqs, logger);
  const url = `http://127.0.0.1:${serving.port}${config.INGEST_PATH}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    const answers = await Promise.all(events.map(async (event) => (await post(url, await signer.sign({ ...event }), agent)).status));
    const refused = answers.filter((s) => s !== 200);
    if (refused.length) throw new Error(`serve refused ${refused.length} of ${events.length} signed samples (statuses ${[...new Set(refused)].join(', ')})`);
    return { accepted: answers.length, url };
  } finally {
    agent.destroy();
    await serving.stop();
    await signer.stop();
  }
}
