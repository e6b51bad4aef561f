// The CDK app: `npm run synth` (offline, to infra/cdk.out/) or `npx cdk deploy` from infra/.
// Configured with context (-c key=value, or cdk.json); with none it creates queue, DLQ and stream.
// cdk-nag's AwsSolutions checks run at every synthesis: a finding that infra/stack.ts does not acknowledge
// fails it (and so `cdk deploy`), with the report in infra/cdk.out/validation-report.json.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
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
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
