// The CDK app: `npm run synth` (offline, to infra/cdk.out/) or `npx cdk deploy` from infra/.
// Configured with context (-c key=value, or cdk.json); with none it creates queue, DLQ and stream.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { propsFromContext } from './context.js';
import { CanvasCaliperStack } from './stack.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Run by the CDK CLI, CDK_OUTDIR says where to write; run by `npm run synth`, infra/cdk.out.
const app = new App(process.env.CDK_OUTDIR ? {} : { outdir: path.join(here, '..', 'cdk.out') });
new CanvasCaliperStack(app, String(app.node.tryGetContext('stackName') ?? 'CanvasCaliper'), {
  ...propsFromContext((k) => app.node.tryGetContext(k)),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'canvas-caliper: Canvas live events (SQS) → IMS Caliper 1.1 → Kinesis, on ECS Fargate',
});
app.synth();
