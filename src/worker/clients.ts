// AWS clients as the worker uses them. The SDK honours AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_KINESIS
// and the standard credential chain. Kinesis gets an HTTP/1.1 keep-alive handler: its default HTTP/2
// handler fails against plain-HTTP endpoints such as kinesis-local, and keep-alive HTTP/1.1 is what
// the KPL uses too.
import http from 'node:http';
import https from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const handler = () =>
  new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  });

export interface ClientOptions {
  region: string;
  sqsEndpoint?: string;
  kinesisEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createClients(o: ClientOptions): { sqs: SQSClient; kinesis: KinesisClient } {
  return {
    sqs: new SQSClient({ region: o.region, requestHandler: handler(), ...(o.sqsEndpoint ? { endpoint: o.sqsEndpoint } : {}), ...(o.credentials ? { credentials: o.credentials } : {}) }),
    kinesis: new KinesisClient({ region: o.region, requestHandler: handler(), ...(o.kinesisEndpoint ? { endpoint: o.kinesisEndpoint } : {}), ...(o.credentials ? { credentials: o.credentials } : {}) }),
  };
}
