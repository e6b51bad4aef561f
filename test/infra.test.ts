// The CDK app's CloudFormation (aws-cdk-lib assertions): what is created or imported, the task role's
// exact permissions, redrive and retention, scaling on backlog per task, alarms, the context parser, and
// cdk-nag's AwsSolutions checks (every stack synthesised here is synthesised under them).
import fs from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CanvasCaliperStack, INSTRUCTURE_ACCOUNT_ID, type CanvasCaliperProps } from '../infra/stack.js';
import { loadConfig } from '../src/config.js';

const ACCOUNT = '123456789012';
const SOURCE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:canvas-live-events-prod`;
const DLQ_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:canvas-live-events-prod-dlq`;
const STREAM_ARN = `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/caliper-prod`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const IMPORTED: CanvasCaliperProps = {
  sourceQueueArn: SOURCE_ARN,
  dlqArn: DLQ_ARN,
  streamArn: STREAM_ARN,
  clusterName: 'data',
  vpcId: 'vpc-0abc1234def567890',
  subnetIds: ['subnet-0aaa1111bbbb22223', 'subnet-0ccc3333dddd44445'],
  availabilityZones: ['us-east-1a', 'us-east-1b'],
};

/** Synthesises the stack under cdk-nag's AwsSolutions checks, as infra/app.ts does: an unacknowledged finding throws. */
function synth(props: CanvasCaliperProps = {}) {
  const app = new App();
  const stack = new CanvasCaliperStack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' }, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, template: Template.fromStack(stack) };
}

/** The statements of the policy attached to the task role. */
function taskRoleStatements(template: Template, stack: CanvasCaliperStack): Record<string, unknown>[] {
  const roleId = stack.getLogicalId(stack.taskRole.node.defaultChild as never);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties.PolicyDocument.Statement;
}

describe('default (create queue, DLQ, stream, cluster)', () => {
  const { stack, template } = synth();

  it('creates exactly the resources of the service', () => {
    const counts: Record<string, number> = {
      'AWS::SQS::Queue': 2,
      'AWS::Kinesis::Stream': 1,
      'AWS::ECS::Cluster': 1,
      'AWS::ECS::Service': 1,
      'AWS::ECS::TaskDefinition': 1,
      'AWS::Logs::LogGroup': 2, // the worker's, the VPC flow log's
      'AWS::EC2::FlowLog': 1,
      'AWS::ApplicationAutoScaling::ScalableTarget': 1,
      'AWS::ApplicationAutoScaling::ScalingPolicy': 1,
      'AWS::CloudWatch::Alarm': 3,
      'AWS::CloudWatch::Dashboard': 1,
      'AWS::SNS::Topic': 1,
      'AWS::SNS::TopicPolicy': 1,
      'AWS::IAM::Role': 3, // task role, execution role, flow log delivery
      'AWS::KMS::Key': 0,
      'AWS::Lambda::Function': 0,
    };
    for (const [type, n] of Object.entries(counts)) template.resourceCountIs(type, n);
  });

  it('gives the task role exactly the worker\'s calls, each on its one resource', () => {
    expect(taskRoleStatements(template, stack)).toEqual([
      { Sid: 'ConsumeSourceQueue', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'], Resource: { 'Fn::GetAtt': [stack.getLogicalId((stack.sourceQueue as never as { node: { defaultChild: never } }).node.defaultChild), 'Arn'] } },
      { Sid: 'ParkInDlq', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [stack.getLogicalId((stack.dlq as never as { node: { defaultChild: never } }).node.defaultChild), 'Arn'] } },
      { Sid: 'PublishToStream', Effect: 'Allow', Action: 'kinesis:PutRecords', Resource: { 'Fn::GetAtt': [stack.getLogicalId((stack.stream as never as { node: { defaultChild: never } }).node.defaultChild), 'Arn'] } },
    ]);
  });

  it('has no statement anywhere in the task role with a wildcard action or resource', () => {
    const statements = taskRoleStatements(template, stack);
    expect(JSON.stringify(statements)).not.toContain('*');
  });

  it('creates the source queue with a redrive policy to the DLQ; the DLQ keeps messages longer; both encrypted', () => {
    const dlqId = stack.getLogicalId((stack.dlq as never as { node: { defaultChild: never } }).node.defaultChild);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'canvas-live-events',
      MessageRetentionPeriod: 4 * 86400,
      VisibilityTimeout: 120,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'canvas-live-events-dlq', MessageRetentionPeriod: 14 * 86400, SqsManagedSseEnabled: true });
  });

  it('creates an on-demand, encrypted stream', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } });
  });

  it('runs the worker on Fargate: health check, stop timeout above the shutdown timeout, logs with retention, environment from the resources', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '512',
      Memory: '1024',
      ContainerDefinitions: [
        Match.objectLike({
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'bin/canvas-caliper.js', 'healthcheck'] }),
          StopTimeout: 35,
          ReadonlyRootFilesystem: true,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Environment: Match.arrayWith([
            { Name: 'SQS_QUEUE_URL', Value: Match.anyValue() },
            { Name: 'DLQ_URL', Value: Match.anyValue() },
            { Name: 'KINESIS_STREAM_NAME', Value: Match.anyValue() },
            { Name: 'SHUTDOWN_TIMEOUT_MS', Value: '25000' },
          ]),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 1, DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100 }) });
  });

  it('scales on backlog per task with metric math, target = acceptable latency ÷ time per message', () => {
    expect(stack.targetBacklogPerTask).toBe(12_000); // 60 s ÷ 0.005 s
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 10, ScalableDimension: 'ecs:service:DesiredCount' });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 12_000,
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
        CustomizedMetricSpecification: {
          Metrics: [
            { Id: 'visible', ReturnData: false, MetricStat: { Stat: 'Sum', Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: Match.anyValue() }] } } },
            { Id: 'tasks', ReturnData: false, MetricStat: { Stat: 'Average', Metric: { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount', Dimensions: [{ Name: 'ClusterName', Value: Match.anyValue() }, { Name: 'ServiceName', Value: Match.anyValue() }] } } },
            { Id: 'backlogPerTask', ReturnData: true, Label: Match.anyValue(), Expression: 'visible / IF(tasks > 0, tasks, 1)' },
          ],
        },
      },
    });
  });

  it('alarms on a non-empty DLQ, an old message, and nothing published while the queue has messages', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, AlarmActions: [Match.anyValue()] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 600, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [Match.anyValue()] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [Match.anyValue()],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(visible > 0 AND FILL(published, 0) == 0, 1, 0)' }),
        Match.objectLike({ Id: 'published', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'CanvasCaliper', MetricName: 'Published' }), Stat: 'Sum' }) }),
      ]),
    });
  });

  it('logs all the VPC\'s traffic to a log group with retention', () => {
    const flowLogs = template.findResources('AWS::EC2::FlowLog');
    const [flowLog] = Object.values(flowLogs);
    expect(flowLog!.Properties).toMatchObject({ ResourceType: 'VPC', ResourceId: { Ref: stack.getLogicalId(stack.node.findChild('Vpc').node.defaultChild as never) }, TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const groupId = (flowLog!.Properties.LogGroupName as { Ref: string }).Ref;
    expect(template.toJSON().Resources[groupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });

  it('the alarm topic refuses publishing without TLS, and lets CloudWatch publish for these three alarms only', () => {
    const topicId = stack.getLogicalId(stack.node.findChild('AlarmTopic').node.defaultChild as never);
    const alarmArn = (id: string) => ({ 'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild(id).node.defaultChild as never), 'Arn'] });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: [
          { Sid: 'AllowPublishThroughSSLOnly', Effect: 'Deny', Principal: '*', Action: 'sns:Publish', Resource: { Ref: topicId }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
          {
            Sid: 'AlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: { ArnEquals: { 'aws:SourceArn': [alarmArn('DlqNotEmpty'), alarmArn('OldestMessageAge'), alarmArn('NotPublishing')] }, StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          },
        ],
        Version: '2012-10-17',
      },
    });
  });

  it('puts backlog, age, published/s, DLQ depth, retries and lag on the dashboard', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const title of ['Backlog', 'Age of oldest message', 'Published / s', 'DLQ depth', 'Kinesis retries', 'Lag']) expect(body).toContain(title);
  });
});

describe('importing what exists (the usual case: Canvas already delivers to a queue)', () => {
  const { stack, template } = synth(IMPORTED);

  it('creates no queue, stream or cluster, and points the worker at the imported ones', () => {
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.resourceCountIs('AWS::ECS::Cluster', 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 0); // the VPC is the operator's
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'SQS_QUEUE_URL', Value: Match.anyValue() }, { Name: 'DLQ_URL', Value: Match.anyValue() }, { Name: 'KINESIS_STREAM_ARN', Value: STREAM_ARN }]) })],
    });
    const environment = JSON.stringify(Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties.ContainerDefinitions[0].Environment);
    expect(environment).toContain(`/${ACCOUNT}/canvas-live-events-prod"`);
    expect(environment).toContain(`/${ACCOUNT}/canvas-live-events-prod-dlq"`);
    template.hasResourceProperties('AWS::ECS::Service', { Cluster: 'data', NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ Subnets: ['subnet-0aaa1111bbbb22223', 'subnet-0ccc3333dddd44445'], AssignPublicIp: 'DISABLED' }) } });
  });

  it('grants exactly the same calls on the imported ARNs', () => {
    expect(taskRoleStatements(template, stack)).toEqual([
      { Sid: 'ConsumeSourceQueue', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'], Resource: SOURCE_ARN },
      { Sid: 'ParkInDlq', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: DLQ_ARN },
      { Sid: 'PublishToStream', Effect: 'Allow', Action: 'kinesis:PutRecords', Resource: STREAM_ARN },
    ]);
  });

  it('adds the KMS use customer keys need, on those keys only', () => {
    const { stack: s, template: t } = synth({ ...IMPORTED, sourceQueueKeyArn: KEY_ARN, dlqKeyArn: KEY_ARN, streamKeyArn: KEY_ARN });
    const statements = taskRoleStatements(t, s);
    expect(statements.slice(3)).toEqual([
      { Sid: 'DecryptSourceQueue', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN },
      { Sid: 'EncryptDlq', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: KEY_ARN },
      { Sid: 'EncryptStream', Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: KEY_ARN },
    ]);
    expect(JSON.stringify(statements)).not.toContain('*');
  });

  it('with an imported queue and no DLQ: creates the DLQ and outputs the redrive policy to set on the queue', () => {
    const { template: t } = synth({ ...IMPORTED, dlqArn: undefined, maxReceiveCount: 8, sourceRetentionDays: 7 });
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86400, SqsManagedSseEnabled: true });
    const output = JSON.stringify(t.findOutputs('RedrivePolicyForSourceQueue'));
    expect(output).toContain('maxReceiveCount');
    expect(output).toContain('8');
  });
});

describe('options', () => {
  it('adds the queue policy Canvas asks for: Instructure\'s account may SendMessage, nothing more', () => {
    const { template } = synth({ allowCanvasToSend: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'CanvasLiveEvents', Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${INSTRUCTURE_ACCOUNT_ID}:root`]] } }, Resource: Match.anyValue() },
        ]),
      },
    });
  });

  it('provisioned shards, customer-key queues, other sizes and thresholds', () => {
    const { stack, template } = synth({ shardCount: 4, queueEncryption: 'kms', minTasks: 2, maxTasks: 20, acceptableLatencyS: 30, perMessageSeconds: 0.01, oldestMessageAlarmS: 300, maxReceiveCount: 3, shutdownTimeoutS: 60, stopMarginS: 15 });
    template.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue(), RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) });
    expect(stack.targetBacklogPerTask).toBe(3000);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 20 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 300 });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ StopTimeout: 75, Environment: Match.arrayWith([{ Name: 'SHUTDOWN_TIMEOUT_MS', Value: '60000' }]) })] });
    const statements = JSON.stringify(taskRoleStatements(template, stack));
    expect(statements).toContain('kms:Decrypt');
    expect(statements).not.toContain('*');
  });

  it('refuses settings that cannot work', () => {
    expect(() => synth({ shutdownTimeoutS: 115 })).toThrow(/over Fargate's 120 s stop timeout/);
    expect(() => synth({ dlqRetentionDays: 4 })).toThrow(/must be longer than sourceRetentionDays/);
    expect(() => synth({ minTasks: 0 })).toThrow(/minTasks/);
    expect(() => synth({ clusterName: 'data' })).toThrow(/vpcId, subnetIds and availabilityZones/);
  });
});

describe('sink caliper-http (-c sink=caliper-http): a Caliper endpoint instead of a stream', () => {
  const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:caliper-endpoint-token-AbCdEf`;
  const HTTP: CanvasCaliperProps = { sink: 'caliper-http', caliperEndpointUrl: 'https://lrs.example.edu/caliper/v1p1?tenant=7', caliperEndpointTokenSecretArn: SECRET_ARN };
  const { stack, template } = synth(HTTP);

  it('creates no stream; the task role has no Kinesis permission, only the reading of the one secret', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    expect(stack.stream).toBeUndefined();
    const statements = taskRoleStatements(template, stack);
    expect(statements.map((st) => st.Sid)).toEqual(['ConsumeSourceQueue', 'ParkInDlq', 'ReadEndpointToken']);
    expect(statements[2]).toEqual({ Sid: 'ReadEndpointToken', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET_ARN });
    expect(JSON.stringify(statements)).not.toContain('kinesis');
    expect(JSON.stringify(template.toJSON().Outputs)).not.toContain('StreamArn');
  });

  it('points the worker at the endpoint and the secret (never a token) in its environment', () => {
    const env = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[];
    const vars = Object.fromEntries(env.map((e) => [e.Name, e.Value]));
    expect(vars).toMatchObject({ SINK: 'caliper-http', CALIPER_ENDPOINT_URL: HTTP.caliperEndpointUrl, CALIPER_ENDPOINT_TOKEN_SECRET_ARN: SECRET_ARN });
    expect(Object.keys(vars).filter((k) => k.startsWith('KINESIS') || k === 'CALIPER_ENDPOINT_TOKEN')).toEqual([]);
  });

  it('alarms when the endpoint refuses the credentials and when most requests fail; the dashboard shows the endpoint', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SinkBlocked', Namespace: 'CanvasCaliper', Dimensions: [{ Name: 'Endpoint', Value: 'https://lrs.example.edu/caliper/v1p1' }], Statistic: 'Maximum', Threshold: 1, AlarmActions: [Match.anyValue()] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0.5,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: '(failed + server + throttled) / IF(requests > 0, requests, 1)' }), Match.objectLike({ Id: 'throttled', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Http429' }) }) })]),
    });
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const title of ['Caliper endpoint: requests by answer', 'mean latency', 'refused events', 'Caliper endpoint retries']) expect(body).toContain(title);
    expect(body).not.toContain('Kinesis retries');
  });

  it('adds kms:Decrypt on the secret\'s customer key only when given one; refuses what cannot work', () => {
    const withKey = synth({ ...HTTP, caliperEndpointTokenKeyArn: KEY_ARN });
    expect(taskRoleStatements(withKey.template, withKey.stack).at(-1)).toEqual({ Sid: 'DecryptEndpointToken', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN });
    expect(() => synth({ sink: 'caliper-http' })).toThrow('sink caliper-http needs caliperEndpointUrl (https://...)');
    expect(() => synth({ sink: 'caliper-http', caliperEndpointUrl: HTTP.caliperEndpointUrl })).toThrow('sink caliper-http needs caliperEndpointTokenSecretArn (a token in Secrets Manager) or caliperEndpointTokenUrl with caliperEndpointClientSecretArn');
    expect(() => synth({ ...HTTP, caliperEndpointUrl: 'http://lrs.example.edu/' })).toThrow(/https/);
    expect(() => synth({ ...HTTP, streamArn: STREAM_ARN })).toThrow(/publishes to no stream/);
    expect(() => synth({ caliperEndpointUrl: 'https://lrs.example.edu/' })).toThrow('caliperEndpointUrl: for sink caliper-http');
    expect(() => synth({ caliperEndpointTokenKeyArn: KEY_ARN })).toThrow('caliperEndpointTokenKeyArn: for sink caliper-http');
    expect(() => synth({ ...HTTP, caliperEndpointTokenSecretArn: undefined, caliperEndpointTokenKeyArn: KEY_ARN })).toThrow(/needs caliperEndpointTokenSecretArn/);
  });

  it('refuses the token itself in workerEnvironment, and the sink\'s variables the stack sets from its context values', () => {
    const token = 'tok-4f1e9c2b7a';
    const refusal = (() => {
      try {
        synth({ ...HTTP, workerEnvironment: { CALIPER_ENDPOINT_TOKEN: token } });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(refusal).toBe('workerEnvironment must not hold CALIPER_ENDPOINT_TOKEN (anyone who can read the task definition could read it): put the token in Secrets Manager and set caliperEndpointTokenSecretArn');
    expect(() => synth({ ...HTTP, workerEnvironment: { CALIPER_ENDPOINT_TOKEN_SECRET_ARN: `${SECRET_ARN}-other` } })).toThrow('workerEnvironment must not hold CALIPER_ENDPOINT_TOKEN_SECRET_ARN: the stack sets it from -c caliperEndpointTokenSecretArn');
    // With sink kinesis too: the stack would create a stream the worker does not publish to, and grant no secret.
    expect(() => synth({ workerEnvironment: { SINK: 'caliper-http', CALIPER_ENDPOINT_URL: 'https://lrs.example.edu/' } })).toThrow('workerEnvironment must not hold SINK, CALIPER_ENDPOINT_URL: the stack sets them from -c sink, -c caliperEndpointUrl');
    // The endpoint's other variables (batching, headers, timeouts) are the worker's tuning: workerEnvironment passes them
    // (and a name that is also a property of every object, `constructor`, is not taken for one the stack sets).
    const tuned = synth({ ...HTTP, workerEnvironment: { HTTP_BATCH_MAX_EVENTS: '1', CALIPER_ENDPOINT_ALLOW_HTTP: 'false', constructor: 'x' } });
    tuned.template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'HTTP_BATCH_MAX_EVENTS', Value: '1' }]) })] });
  });
});

/** The worker container's environment, by name (values that CloudFormation resolves stay objects). */
function workerEnvironment(template: Template): Record<string, unknown> {
  const env = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[];
  return Object.fromEntries(env.map((e) => [e.Name, e.Value]));
}

describe('sink caliper-http with OAuth 2.0 client credentials (-c caliperEndpointTokenUrl=…): the client secret only ever in Secrets Manager', () => {
  const CLIENT_SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:timeback-client-AbCdEf`;
  const TOKEN_SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:caliper-endpoint-token-AbCdEf`;
  const SCOPE = 'https://purl.imsglobal.org/spec/caliper/v1p2/scope/events.write';
  const OAUTH: CanvasCaliperProps = {
    ...IMPORTED,
    streamArn: undefined,
    sink: 'caliper-http',
    caliperEndpointUrl: 'https://platform.example/events/1.0/',
    caliperEndpointTokenUrl: 'https://platform.example/auth/1.0/token',
    caliperEndpointClientId: 'canvas-caliper-prod',
    caliperEndpointClientSecretArn: CLIENT_SECRET_ARN,
    caliperEndpointScope: SCOPE,
    caliperEndpointAuthMethod: 'client_secret_post',
  };
  const { stack, template } = synth(OAUTH);

  it('lets the task role read exactly the client secret\'s secret: no token secret, no Kinesis, no wildcard', () => {
    const statements = taskRoleStatements(template, stack);
    expect(statements.map((st) => st.Sid)).toEqual(['ConsumeSourceQueue', 'ParkInDlq', 'ReadEndpointClientSecret']);
    expect(statements[2]).toEqual({ Sid: 'ReadEndpointClientSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: CLIENT_SECRET_ARN });
    expect(JSON.stringify(statements)).not.toMatch(/\*|kinesis|kms/);
  });

  it('adds kms:Decrypt on the client secret\'s customer key, that key only, only when given one', () => {
    const withKey = synth({ ...OAUTH, caliperEndpointClientSecretKeyArn: KEY_ARN });
    const statements = taskRoleStatements(withKey.template, withKey.stack);
    expect(statements.slice(2)).toEqual([
      { Sid: 'ReadEndpointClientSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: CLIENT_SECRET_ARN },
      { Sid: 'DecryptEndpointClientSecret', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN },
    ]);
    expect(JSON.stringify(statements)).not.toContain('*');
  });

  it('gives the worker the OAuth variables (the secret\'s ARN, never a secret), and the worker\'s own configuration accepts them', () => {
    const vars = workerEnvironment(template);
    expect(vars).toMatchObject({
      SINK: 'caliper-http',
      CALIPER_ENDPOINT_URL: OAUTH.caliperEndpointUrl,
      CALIPER_ENDPOINT_TOKEN_URL: OAUTH.caliperEndpointTokenUrl,
      CALIPER_ENDPOINT_CLIENT_ID: 'canvas-caliper-prod',
      CALIPER_ENDPOINT_CLIENT_SECRET_ARN: CLIENT_SECRET_ARN,
      CALIPER_ENDPOINT_SCOPE: SCOPE,
      CALIPER_ENDPOINT_AUTH_METHOD: 'client_secret_post',
    });
    expect(Object.keys(vars).filter((k) => k.startsWith('KINESIS') || ['CALIPER_ENDPOINT_TOKEN', 'CALIPER_ENDPOINT_TOKEN_SECRET_ARN', 'CALIPER_ENDPOINT_CLIENT_SECRET'].includes(k))).toEqual([]);
    // What CloudFormation fills in at deployment (the queue URLs, the region) stands in as plain values here.
    const resolved = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : k === 'AWS_REGION' ? 'us-east-1' : `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${k}`]));
    const config = loadConfig(resolved);
    expect(config).toMatchObject({ SINK: 'caliper-http', CALIPER_ENDPOINT_TOKEN_URL: OAUTH.caliperEndpointTokenUrl, CALIPER_ENDPOINT_CLIENT_SECRET_ARN: CLIENT_SECRET_ARN, CALIPER_ENDPOINT_AUTH_METHOD: 'client_secret_post' });
  });

  it('leaves out the options not given: the client id (the secret\'s JSON may hold it), the scope, the auth method (the worker\'s default)', () => {
    const minimal = synth({ ...OAUTH, caliperEndpointClientId: undefined, caliperEndpointScope: undefined, caliperEndpointAuthMethod: undefined });
    const vars = workerEnvironment(minimal.template);
    expect(Object.keys(vars).filter((k) => k.startsWith('CALIPER_ENDPOINT_')).sort()).toEqual(['CALIPER_ENDPOINT_CLIENT_SECRET_ARN', 'CALIPER_ENDPOINT_TOKEN_URL', 'CALIPER_ENDPOINT_URL']);
  });

  it('refuses the token secret and the OAuth client together, and OAuth settings that cannot work', () => {
    expect(() => synth({ ...OAUTH, caliperEndpointTokenSecretArn: TOKEN_SECRET_ARN })).toThrow(
      'caliperEndpointTokenSecretArn (a token in Secrets Manager) and caliperEndpointTokenUrl (OAuth 2.0 client credentials) are two ways to the same token: set one of them',
    );
    expect(() => synth({ ...OAUTH, caliperEndpointClientSecretArn: undefined })).toThrow(/caliperEndpointTokenUrl needs caliperEndpointClientSecretArn/);
    expect(() => synth({ ...OAUTH, caliperEndpointTokenUrl: 'http://platform.example/auth/1.0/token' })).toThrow('caliperEndpointTokenUrl must be https://');
    expect(() => synth({ ...OAUTH, caliperEndpointAuthMethod: 'private_key_jwt' as never })).toThrow("caliperEndpointAuthMethod must be client_secret_basic or client_secret_post, not 'private_key_jwt'");
    // The token secret's key is not the client secret's: the message says which is which.
    expect(() => synth({ ...OAUTH, caliperEndpointTokenKeyArn: KEY_ARN })).toThrow(
      "caliperEndpointTokenKeyArn is the KMS key of caliperEndpointTokenSecretArn's secret, which is not set (the key of caliperEndpointClientSecretArn's secret is caliperEndpointClientSecretKeyArn)",
    );
    // The OAuth options without a token URL: an error, not ignored (as the worker does with its variables).
    const { caliperEndpointTokenUrl: _, ...noTokenUrl } = OAUTH;
    expect(() => synth({ ...noTokenUrl, caliperEndpointTokenSecretArn: TOKEN_SECRET_ARN })).toThrow(
      'caliperEndpointClientId, caliperEndpointClientSecretArn, caliperEndpointScope, caliperEndpointAuthMethod: options of OAuth 2.0 client credentials, which need caliperEndpointTokenUrl',
    );
    expect(() => synth({ ...noTokenUrl, caliperEndpointClientId: undefined, caliperEndpointScope: undefined, caliperEndpointAuthMethod: undefined, caliperEndpointClientSecretArn: undefined, caliperEndpointTokenSecretArn: TOKEN_SECRET_ARN, caliperEndpointClientSecretKeyArn: KEY_ARN })).toThrow(
      'caliperEndpointClientSecretKeyArn: options of OAuth 2.0 client credentials',
    );
    // An empty value (`-c caliperEndpointClientId=`) would be refused by the worker at start, task after task.
    expect(() => synth({ ...OAUTH, caliperEndpointClientId: '', caliperEndpointScope: '' })).toThrow('caliperEndpointClientId, caliperEndpointScope: empty; give a value or leave them out');
    expect(() => synth({ ...OAUTH, caliperEndpointTokenUrl: '' })).toThrow('caliperEndpointTokenUrl: empty; give a value or leave it out');
    // With sink kinesis, every OAuth value is named.
    const { sink: __, ...kinesis } = OAUTH;
    expect(() => synth(kinesis)).toThrow('caliperEndpointUrl, caliperEndpointTokenUrl, caliperEndpointClientId, caliperEndpointClientSecretArn, caliperEndpointScope, caliperEndpointAuthMethod: for sink caliper-http');
  });

  it('refuses the client secret itself in workerEnvironment, without repeating it, and the OAuth variables the stack sets', () => {
    const clientSecret = 'cs-9d2f7e1a0b3c';
    const message = (props: CanvasCaliperProps) => {
      try {
        synth(props);
      } catch (e) {
        return (e as Error).message;
      }
      return 'synthesised';
    };
    const refusal = message({ ...OAUTH, workerEnvironment: { CALIPER_ENDPOINT_CLIENT_SECRET: clientSecret } });
    expect(refusal).toBe('workerEnvironment must not hold CALIPER_ENDPOINT_CLIENT_SECRET (anyone who can read the task definition could read it): put the client secret in Secrets Manager and set caliperEndpointClientSecretArn (with caliperEndpointTokenUrl)');
    // Also where it would be no use (sink kinesis): it is still a secret in the task definition.
    expect(message({ workerEnvironment: { CALIPER_ENDPOINT_CLIENT_SECRET: clientSecret } })).toBe(refusal);
    expect(message({ ...OAUTH, workerEnvironment: { CALIPER_ENDPOINT_CLIENT_SECRET_ARN: `${CLIENT_SECRET_ARN}-other`, CALIPER_ENDPOINT_SCOPE: 'other' } })).toBe(
      'workerEnvironment must not hold CALIPER_ENDPOINT_CLIENT_SECRET_ARN, CALIPER_ENDPOINT_SCOPE: the stack sets them from -c caliperEndpointClientSecretArn, -c caliperEndpointScope (and grants the task role what they need)',
    );
    for (const name of ['CALIPER_ENDPOINT_TOKEN_URL', 'CALIPER_ENDPOINT_CLIENT_ID', 'CALIPER_ENDPOINT_AUTH_METHOD']) {
      expect(message({ ...OAUTH, workerEnvironment: { [name]: 'x' } })).toMatch(new RegExp(`^workerEnvironment must not hold ${name}: the stack sets it from -c caliperEndpoint`));
    }
  });

  it('context: the OAuth values are read as strings; a client secret, a token or a privacy key as a context value stops the synthesis, never echoed', async () => {
    const { propsFromContext } = await import('../infra/context.js');
    const context: Record<string, unknown> = {
      sink: 'caliper-http',
      caliperEndpointUrl: OAUTH.caliperEndpointUrl,
      caliperEndpointTokenUrl: OAUTH.caliperEndpointTokenUrl,
      caliperEndpointClientId: 'canvas-caliper-prod',
      caliperEndpointClientSecretArn: CLIENT_SECRET_ARN,
      caliperEndpointClientSecretKeyArn: KEY_ARN,
      caliperEndpointScope: SCOPE,
      caliperEndpointAuthMethod: 'client_secret_basic',
    };
    expect(propsFromContext((k) => context[k])).toEqual(context);
    const secret = 'cs-9d2f7e1a0b3c';
    const refused: [string, string][] = [
      ['caliperEndpointClientSecret', 'context caliperEndpointClientSecret is refused: a secret is no context value; put the client secret in Secrets Manager and set caliperEndpointClientSecretArn'],
      ['caliperEndpointToken', 'context caliperEndpointToken is refused: a secret is no context value; put the token in Secrets Manager and set caliperEndpointTokenSecretArn'],
      ['privacyKey', 'context privacyKey is refused: a secret is no context value; put the key in Secrets Manager and set privacyKeySecretArn'],
    ];
    for (const [key, expected] of refused) {
      // Alongside a complete, valid OAuth configuration: the secret is not silently dropped.
      expect(() => propsFromContext((k) => ({ ...context, [key]: secret })[k])).toThrow(expected);
      expect(() => propsFromContext((k) => ({ ...context, [key]: secret })[k])).not.toThrow(secret);
    }
  });
});

/** What cdk-nag's AwsSolutions checks leave on a synthesised stack: the findings nobody acknowledged (from the
 * validation report), and the acknowledgements in the stack, each with the construct it is on and its reason. */
function nag(props: CanvasCaliperProps, change?: (stack: CanvasCaliperStack) => void) {
  const app = new App();
  const stack = new CanvasCaliperStack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' }, ...props });
  change?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  type Report = { pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[] };
  const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as Report;
  fs.rmSync(app.outdir, { recursive: true, force: true });
  const findings = report.pluginReports
    .filter((r) => r.pluginName === 'AwsSolutions')
    .flatMap((r) => r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)));
  const acknowledged = stack.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ rule: id.replace(/^(annotation|AwsSolutions)::/i, ''), at: c.node.path, reason }))
      .filter((a) => a.rule.startsWith('AwsSolutions-')),
  );
  return { error, findings, acknowledged };
}

describe('cdk-nag AwsSolutions: no unacknowledged finding, and each acknowledgement on its one resource with a reason', () => {
  const ECS2 = 'AwsSolutions-ECS2 Test/Task/Resource';
  const IAM5 = 'AwsSolutions-IAM5[Resource::*] Test/Task/ExecutionRole/DefaultPolicy/Resource';
  const SQS3 = 'AwsSolutions-SQS3 Test/Dlq/Resource';
  const variants: [string, CanvasCaliperProps, string[]][] = [
    ['default: creates queue, DLQ, stream, VPC and cluster', {}, [ECS2, IAM5]],
    ['imports queue, DLQ, stream and cluster', IMPORTED, [ECS2, IAM5]],
    ['imports them with customer keys', { ...IMPORTED, sourceQueueKeyArn: KEY_ARN, dlqKeyArn: KEY_ARN, streamKeyArn: KEY_ARN }, [ECS2, IAM5]],
    ['imports the queue and creates its DLQ', { ...IMPORTED, dlqArn: undefined }, [SQS3, ECS2, IAM5]],
    ['sink caliper-http: no stream, the token secret', { sink: 'caliper-http', caliperEndpointUrl: 'https://lrs.example.edu/caliper', caliperEndpointTokenSecretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:t-AbCdEf` }, [ECS2, IAM5]],
    [
      'sink caliper-http: OAuth 2.0 client credentials, the client secret under a customer key',
      {
        sink: 'caliper-http',
        caliperEndpointUrl: 'https://platform.example/events/1.0/',
        caliperEndpointTokenUrl: 'https://platform.example/auth/1.0/token',
        caliperEndpointClientSecretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:c-AbCdEf`,
        caliperEndpointClientSecretKeyArn: KEY_ARN,
        caliperEndpointScope: 'events.write',
      },
      [ECS2, IAM5],
    ],
    ['creates KMS-encrypted queues with Canvas\'s queue policy, a provisioned stream, an alarm subscription', { queueEncryption: 'kms', allowCanvasToSend: true, shardCount: 4, alarmEmail: 'data-oncall@example.edu' }, [ECS2, IAM5]],
  ];
  for (const [name, props, expected] of variants) {
    it(name, () => {
      const { error, findings, acknowledged } = nag(props);
      expect(findings).toEqual([]);
      expect(error).toBeUndefined();
      expect(acknowledged.map((a) => `${a.rule} ${a.at}`)).toEqual(expected);
      for (const a of acknowledged) expect(a.reason.length, `${a.rule}: a reason a reviewer can check`).toBeGreaterThan(80);
    });
  }

  it('fails synthesis on a finding nobody acknowledged', () => {
    const { error, findings } = nag({}, (stack) => new Topic(stack, 'Unchecked'));
    expect(findings).toEqual(['AwsSolutions-SNS3 Test/Unchecked/Resource']);
    expect(error?.message).toMatch(/AwsSolutions-SNS3/);
  });

  it('acknowledges only the one wildcard of the execution role: another one is still a finding', () => {
    const { findings } = nag({}, (stack) => stack.service.taskDefinition.addToExecutionRolePolicy(new PolicyStatement({ actions: ['ecr:*'], resources: ['*'] })));
    expect(findings).toEqual(['AwsSolutions-IAM5[Action::ecr:*] Test/Task/ExecutionRole/DefaultPolicy/Resource']);
  });
});

describe('context', () => {
  it('parses numbers, lists and booleans, and refuses bad values', async () => {
    const { propsFromContext } = await import('../infra/context.js');
    const context: Record<string, unknown> = { sourceQueueArn: SOURCE_ARN, maxTasks: '12', subnetIds: 'subnet-a, subnet-b', allowCanvasToSend: 'true' };
    expect(propsFromContext((k) => context[k])).toEqual({ sourceQueueArn: SOURCE_ARN, maxTasks: 12, subnetIds: ['subnet-a', 'subnet-b'], allowCanvasToSend: true });
    expect(() => propsFromContext((k) => ({ maxTasks: 'many' })[k])).toThrow(/maxTasks must be a number/);
    expect(() => propsFromContext((k) => ({ queueEncryption: 'aes' })[k])).toThrow(/queueEncryption/);
    const http: Record<string, unknown> = { sink: 'caliper-http', caliperEndpointUrl: 'https://lrs.example.edu/caliper', caliperEndpointTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:t' };
    expect(propsFromContext((k) => http[k])).toEqual(http);
    expect(() => propsFromContext((k) => ({ sink: 'http' })[k])).toThrow(/sink must be kinesis or caliper-http/);
  });

  it('passes the worker’s other variables from workerEnvironment (a JSON object of strings) to the task', async () => {
    const { propsFromContext } = await import('../infra/context.js');
    const env = { CALIPER_FORMAT: 'caliper-1.2', EXCLUDE_EVENT_TYPES: 'asset_accessed' };
    expect(propsFromContext((k) => ({ workerEnvironment: JSON.stringify(env) })[k])).toEqual({ workerEnvironment: env });
    expect(propsFromContext((k) => ({ workerEnvironment: env })[k])).toEqual({ workerEnvironment: env });
    expect(() => propsFromContext((k) => ({ workerEnvironment: '{"MAX_IN_FLIGHT":100}' })[k])).toThrow(/workerEnvironment must be a JSON object of strings/);
    expect(() => propsFromContext((k) => ({ workerEnvironment: 'CALIPER_FORMAT=caliper-1.2' })[k])).toThrow(/workerEnvironment/);
    synth({ workerEnvironment: env }).template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'CALIPER_FORMAT', Value: 'caliper-1.2' }, { Name: 'EXCLUDE_EVENT_TYPES', Value: 'asset_accessed' }]) })],
    });
  });

  it('privacyKeySecretArn: the task may read that one secret, the worker gets PRIVACY_KEY_SECRET_ARN; a PRIVACY_KEY in workerEnvironment is refused (issue 20)', async () => {
    const { propsFromContext } = await import('../infra/context.js');
    const secret = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:canvas-caliper-privacy-AbCdEf`;
    expect(propsFromContext((k) => ({ privacyKeySecretArn: secret })[k])).toEqual({ privacyKeySecretArn: secret });
    const { stack, template } = synth({ privacyKeySecretArn: secret, workerEnvironment: { PRIVACY: 'pseudonymise' } });
    expect(taskRoleStatements(template, stack)).toContainEqual({ Sid: 'ReadPrivacyKey', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secret });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'PRIVACY_KEY_SECRET_ARN', Value: secret }, { Name: 'PRIVACY', Value: 'pseudonymise' }]) })],
    });
    const without = synth();
    expect(taskRoleStatements(without.template, without.stack).map((s) => s.Sid)).not.toContain('ReadPrivacyKey');
    expect(() => synth({ workerEnvironment: { PRIVACY: 'drop', PRIVACY_KEY: 'x'.repeat(32) } })).toThrow('workerEnvironment must not hold PRIVACY_KEY');
    // A secret under a customer KMS key: the task may decrypt with that key, and only when given one.
    expect(taskRoleStatements(template, stack).map((s) => s.Sid)).not.toContain('DecryptPrivacyKey');
    const withKey = synth({ privacyKeySecretArn: secret, privacyKeySecretKeyArn: KEY_ARN });
    expect(taskRoleStatements(withKey.template, withKey.stack)).toContainEqual({ Sid: 'DecryptPrivacyKey', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN });
    expect(() => synth({ privacyKeySecretKeyArn: KEY_ARN })).toThrow(/set privacyKeySecretArn too/);
  });

  it('personIdMap: an S3 object the task may get (that one object), the worker gets PERSON_ID_MAP; a path in the image needs no grant; an s3:// map in workerEnvironment is refused', async () => {
    const { propsFromContext } = await import('../infra/context.js');
    const map = 's3://school-maps/timeback/person-map.csv';
    expect(propsFromContext((k) => ({ personIdMap: map })[k])).toEqual({ personIdMap: map });
    const { stack, template } = synth({ personIdMap: map });
    expect(taskRoleStatements(template, stack)).toContainEqual({ Sid: 'ReadPersonIdMap', Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::school-maps/timeback/person-map.csv']] } });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'PERSON_ID_MAP', Value: map }]) })] });
    const file = synth({ personIdMap: '/app/person-map.csv' });
    expect(taskRoleStatements(file.template, file.stack).map((s) => s.Sid)).not.toContain('ReadPersonIdMap');
    const without = synth();
    expect(taskRoleStatements(without.template, without.stack).map((s) => s.Sid)).not.toContain('ReadPersonIdMap');
    expect(() => synth({ personIdMap: 's3://Bad_Bucket/x' })).toThrow(/personIdMap must be s3:\/\/bucket\/key/);
    expect(() => synth({ workerEnvironment: { PERSON_ID_MAP: map } })).toThrow(/set personIdMap instead/);
  });
});

describe('npm run synth', () => {
  it('writes the default template (queue, DLQ, stream) under infra/cdk.out/ with no AWS account, passing cdk-nag', async () => {
    const { execFileSync } = await import('node:child_process');
    const root = path.join(import.meta.dirname, '..');
    const out = path.join(root, 'infra', 'cdk.out', 'CanvasCaliper.template.json');
    fs.rmSync(out, { force: true });
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('CDK_')) delete env[k];
    execFileSync('npm', ['run', '-s', 'synth'], { cwd: root, env, stdio: 'ignore' }); // throws if cdk-nag fails the synthesis
    const report = JSON.parse(fs.readFileSync(path.join(root, 'infra', 'cdk.out', 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; violations: unknown[] }[] };
    expect(report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions').flatMap((r) => r.violations)).toEqual([]);
    const template = Template.fromJSON(JSON.parse(fs.readFileSync(out, 'utf8')));
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.resourceCountIs('AWS::ECS::Service', 1);
  }, 120_000); // compiles infra/ with tsc first
});

describe('-c ingest=https: serve behind an internet-facing load balancer', () => {
  const CERT = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const HTTPS: CanvasCaliperProps = { ingest: 'https', ingestCertificateArn: CERT, ingestDomain: 'canvas-events.example.edu', ingestPath: '/live-events' };
  const { stack, template } = synth(HTTPS);
  const ingest = stack.ingest!;

  it('adds a second Fargate service running serve, with its own health check and stop timeout', () => {
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Command: ['node', 'bin/canvas-caliper.js', 'serve'],
          PortMappings: [Match.objectLike({ ContainerPort: 8080 })],
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'bin/canvas-caliper.js', 'healthcheck'] }),
          StopTimeout: 35,
          ReadonlyRootFilesystem: true,
          Environment: Match.arrayWith([{ Name: 'SQS_QUEUE_URL', Value: Match.anyValue() }, { Name: 'PORT', Value: '8080' }, { Name: 'HEALTH_PORT', Value: '8080' }, { Name: 'INGEST_PATH', Value: '/live-events' }, { Name: 'SHUTDOWN_TIMEOUT_MS', Value: '25000' }]),
        }),
      ],
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  it('gives serve\'s task role only sqs:SendMessage on the source queue (the worker\'s role is unchanged)', () => {
    const roleId = stack.getLogicalId(ingest.taskRole.node.defaultChild as never);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
    expect(policies.map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [{ Sid: 'EnqueueToSourceQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [stack.getLogicalId((stack.sourceQueue as never as { node: { defaultChild: never } }).node.defaultChild), 'Arn'] } }],
    ]);
    expect(taskRoleStatements(template, stack).map((s) => s.Sid)).toEqual(['ConsumeSourceQueue', 'ParkInDlq', 'PublishToStream']);
  });

  it('terminates HTTPS with the certificate on an internet-facing ALB (access logs on), forwards only the ingest path', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Type: 'application',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }, { Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: CERT }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', { Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/live-events'] } }] });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8080, Protocol: 'HTTP', TargetType: 'ip', HealthCheckPath: '/healthz' });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupIngress: [{ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: Match.anyValue() }] });
    template.hasOutput('IngestUrl', { Value: 'https://canvas-events.example.edu/live-events' });
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const title of ['HTTPS ingest: requests', 'HTTPS ingest: response time (s)', 'HTTPS ingest: refusals by reason', 'Ingest_bad_signature', 'Ingest_sqs_unavailable']) expect(dashboard).toContain(title);
  });

  it('scales serve on requests per target', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 30_000, PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }) }),
    });
  });

  it('is clean under cdk-nag, created or imported, each acknowledgement with its reason', () => {
    const ingestAcks = ['AwsSolutions-ECS2 Test/Ingest/Task/Resource', 'AwsSolutions-IAM5[Resource::*] Test/Ingest/Task/ExecutionRole/DefaultPolicy/Resource', 'AwsSolutions-EC23 Test/Ingest/LoadBalancerSecurityGroup/Resource', 'AwsSolutions-S1 Test/Ingest/AccessLogs/Resource'];
    for (const props of [HTTPS, { ...IMPORTED, ...HTTPS, publicSubnetIds: ['subnet-0eee5555ffff66667', 'subnet-0ggg7777hhhh88889'], queueEncryption: 'kms' as const, sourceQueueKeyArn: KEY_ARN }]) {
      const { error, findings, acknowledged } = nag(props);
      expect(findings).toEqual([]);
      expect(error).toBeUndefined();
      expect(acknowledged.map((a) => `${a.rule} ${a.at}`).filter((a) => a.includes('/Ingest/')).sort()).toEqual([...ingestAcks].sort());
      for (const a of acknowledged) expect(a.reason.length).toBeGreaterThan(80);
    }
  });

  it('refuses an https ingest without its domain and certificate, or an imported VPC without public subnets', async () => {
    expect(() => synth({ ingest: 'https' })).toThrow(/ingest=https needs ingestCertificateArn, ingestDomain/);
    expect(() => synth({ ...IMPORTED, ...HTTPS })).toThrow(/needs publicSubnetIds/);
    expect(() => new CanvasCaliperStack(new App(), 'NoRegion', HTTPS)).toThrow(/needs the stack's region/);
    const { propsFromContext } = await import('../infra/context.js');
    expect(propsFromContext((k) => ({ ingest: 'https', ingestMinTasks: '3', publicSubnetIds: 'subnet-a,subnet-b' })[k])).toEqual({ ingest: 'https', ingestMinTasks: 3, publicSubnetIds: ['subnet-a', 'subnet-b'] });
    expect(() => propsFromContext((k) => ({ ingest: 'webhook' })[k])).toThrow(/context ingest must be sqs or https/);
    expect(propsFromContext((k) => ({ ingestEnvironment: '{"LOG_LEVEL":"warn"}' })[k])).toEqual({ ingestEnvironment: { LOG_LEVEL: 'warn' } });
    expect(() => propsFromContext((k) => ({ ingestEnvironment: '{"CLOCK_TOLERANCE_S":10}' })[k])).toThrow(/context ingestEnvironment must be a JSON object of strings/);
    synth({ ...HTTPS, ingestEnvironment: { CLOCK_TOLERANCE_S: '10' } }).template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Command: ['node', 'bin/canvas-caliper.js', 'serve'], Environment: Match.arrayWith([{ Name: 'CLOCK_TOLERANCE_S', Value: '10' }]) })],
    });
  });
});
