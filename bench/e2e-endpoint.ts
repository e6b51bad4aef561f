// One endpoint of `npm run bench:e2e` in a process of its own, so that its CPU time is measured apart
// from the worker's and the bench's: `node dist/bench/e2e-endpoint.js lean-sqs|local-aws-sqs|lean-kinesis|lean-caliper`.
// Listens on a free loopback port, prints `PORT <n>`, and exits on SIGTERM (which lets --cpu-prof write).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLeanCaliper } from './lean-caliper.js';
import { createLeanKinesis } from './lean-kinesis.js';
import { createLeanSqs } from './lean-sqs.js';

const kind = process.argv[2];
let server: Server;
if (kind === 'lean-sqs') server = createLeanSqs();
else if (kind === 'lean-kinesis') server = createLeanKinesis();
else if (kind === 'lean-caliper') server = createLeanCaliper();
else if (kind === 'local-aws-sqs') {
  const { createSqsServer } = (await import('local-aws-sqs')) as { createSqsServer: (o: object) => Promise<Server> };
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: 'us-east-1', emulateQueueCreationLifecycle: false });
} else {
  console.error(`usage: e2e-endpoint.js lean-sqs|local-aws-sqs|lean-kinesis|lean-caliper (not ${kind})`);
  process.exit(2);
}
const announce = () => console.log(`PORT ${(server.address() as AddressInfo).port}`);
if (server.listening) announce();
else server.listen(0, '127.0.0.1', announce);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
