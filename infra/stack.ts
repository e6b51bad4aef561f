// The deployment of the worker: the queues Canvas delivers to (imported or created), the Kinesis stream
// (imported or created; with sink caliper-http none: the worker POSTs to a Caliper endpoint and may read
// only its token's secret), the ECS Fargate service running `canvas-caliper run`, its least-privilege task
// role, scaling on backlog per task, alarms and a dashboard. It passes cdk-nag's AwsSolutions checks: the
// findings that are right as they are carry an acknowledgement (Validations.of(...).acknowledge) with the
// reason, on the one resource they concern.
import { CfnOutput, Duration, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import { CfnScalingPolicy, ScalableTarget, ServiceNamespace } from 'aws-cdk-lib/aws-applicationautoscaling';
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { FlowLogDestination, FlowLogTrafficType, SecurityGroup, Vpc, type IVpc } from 'aws-cdk-lib/aws-ec2';
import { Repository } from 'aws-cdk-lib/aws-ecr';
import { Cluster, ContainerImage, ContainerInsights, FargateService, FargateTaskDefinition, LogDrivers, type ICluster } from 'aws-cdk-lib/aws-ecs';
import { AccountPrincipal, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode, type IStream } from 'aws-cdk-lib/aws-kinesis';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, QueuePolicy, type IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeEcrLogin, CONTAINER_HEALTH_CHECK, RUNTIME_PLATFORM, SERVICE_DEFAULTS } from './fargate.js';
import { caliperEndpoint, ENDPOINT_PROPS, STACK_SET_VARIABLES, type EndpointProps } from './endpoint.js';
import { HttpsIngest } from './ingest.js';

/** Instructure's AWS account, which Canvas's documentation asks to allow on the live-events queue. */
export const INSTRUCTURE_ACCOUNT_ID = '636161780776';
/** The worker's variables that would hold a secret, and what to set instead. */
const SECRET_VARIABLES = [
  ['PRIVACY_KEY', 'put the key in Secrets Manager and set privacyKeySecretArn'],
  ['CALIPER_ENDPOINT_TOKEN', 'put the token in Secrets Manager and set caliperEndpointTokenSecretArn'],
  ['CALIPER_ENDPOINT_CLIENT_SECRET', 'put the client secret in Secrets Manager and set caliperEndpointClientSecretArn (with caliperEndpointTokenUrl)'],
] as const;
/** Fargate waits at most 120 s between SIGTERM and SIGKILL. */
const FARGATE_MAX_STOP_TIMEOUT_S = 120;

export interface CanvasCaliperProps extends StackProps, EndpointProps {
  // The source queue. Canvas requires its name to begin with canvas-live-events.
  /** Import the queue Canvas already delivers to (the usual case). Absent: create one. */
  sourceQueueArn?: string;
  /** The KMS key of an imported source queue encrypted with a customer key (the task role may decrypt with it). */
  sourceQueueKeyArn?: string;
  /** Name of a created source queue. */
  queueName?: string;
  /** Message retention of the source queue, in days (of an imported one: what it is set to). */
  sourceRetentionDays?: number;
  /** Import an existing DLQ. Absent: create one. */
  dlqArn?: string;
  dlqKeyArn?: string;
  /** Message retention of a created DLQ, in days; must be longer than the source's. */
  dlqRetentionDays?: number;
  /** Receives before SQS moves a message to the DLQ (redrive policy of a created source queue). */
  maxReceiveCount?: number;
  /** Encryption of created queues: SQS-managed keys (default; Canvas can send without KMS grants) or a customer KMS key. */
  queueEncryption?: 'sqs-managed' | 'kms';
  /** Add the queue policy Canvas's documentation asks for: Instructure's account may SendMessage to a created queue. */
  allowCanvasToSend?: boolean;
  canvasAccountId?: string;

  /** Where the worker publishes (its SINK): a Kinesis stream (default), or a Caliper endpoint over HTTP (no stream then; its context values: infra/endpoint.ts). */
  sink?: 'kinesis' | 'caliper-http';

  // The Kinesis stream (sink kinesis).
  /** Import an existing stream. Absent: create one. */
  streamArn?: string;
  /** The KMS key of an imported stream encrypted with a customer key. */
  streamKeyArn?: string;
  streamName?: string;
  /** Shards of a created stream; absent: on-demand capacity. */
  shardCount?: number;
  streamRetentionHours?: number;

  // ECS.
  /** Import an existing cluster (with vpcId, subnetIds, availabilityZones). Absent: create a VPC and a cluster. */
  clusterName?: string;
  vpcId?: string;
  subnetIds?: string[];
  availabilityZones?: string[];
  /** The image pushed to ECR (see docs/operations.md: Build and push the image). */
  imageRepositoryName?: string;
  imageTag?: string;
  cpu?: number;
  memoryMiB?: number;
  desiredTasks?: number;
  minTasks?: number;
  maxTasks?: number;
  /** The worker's SHUTDOWN_TIMEOUT_MS, in seconds; ECS waits this plus stopMarginS before SIGKILL. */
  shutdownTimeoutS?: number;
  stopMarginS?: number;
  visibilityTimeoutS?: number;
  logRetentionDays?: RetentionDays;
  /** More worker environment variables (docs/configuration.md lists them). */
  workerEnvironment?: Record<string, string>;
  /** The Secrets Manager secret holding the privacy key (the worker's PRIVACY_KEY_SECRET_ARN): the task role may read it. PRIVACY goes in workerEnvironment. */
  privacyKeySecretArn?: string;
  /** That secret's customer KMS key, if it has one (the task role may decrypt with it). */
  privacyKeySecretKeyArn?: string;
  /** The worker's PERSON_ID_MAP (docs/timeback.md): `s3://bucket/key` (the task role may get that one object) or a path in the image. */
  personIdMap?: string;

  // Scaling and alarms.
  /** How long a message may wait in the queue, in seconds: with perMessageSeconds, sets the backlog per task to aim for. */
  acceptableLatencyS?: number;
  /** Time one task needs per message, in seconds (measure it: 1 ÷ the events per second one task publishes). */
  perMessageSeconds?: number;
  /** Alarm when the oldest message in the source queue is older than this, in seconds. */
  oldestMessageAlarmS?: number;
  /** Subscribe this address to the alarms topic. */
  alarmEmail?: string;

  // Canvas's HTTPS delivery (docs/operations.md: Connecting Canvas over HTTPS).
  /** `https`: also run `canvas-caliper serve` behind an internet-facing load balancer (default `sqs`: Canvas sends to the queue). */
  ingest?: 'sqs' | 'https';
  /** The ACM certificate (in this region) of ingestDomain. */
  ingestCertificateArn?: string;
  /** The custom domain Canvas posts to. */
  ingestDomain?: string;
  /** The path Canvas posts to (serve's INGEST_PATH). */
  ingestPath?: string;
  ingestCpu?: number;
  ingestMemoryMiB?: number;
  ingestMinTasks?: number;
  ingestMaxTasks?: number;
  /** Scaling target of serve: requests per task per minute. */
  ingestRequestsPerTarget?: number;
  /** Public subnets of an imported VPC, for the load balancer. */
  publicSubnetIds?: string[];
  /** More serve environment variables (docs/configuration.md: canvas-caliper serve). */
  ingestEnvironment?: Record<string, string>;
}

export class CanvasCaliperStack extends Stack {
  readonly sourceQueue: IQueue;
  readonly dlq: IQueue;
  /** The stream (sink kinesis); undefined with sink caliper-http. */
  readonly stream: IStream | undefined;
  readonly taskRole: Role;
  readonly service: FargateService;
  /** The backlog per task that scaling aims for. */
  readonly targetBacklogPerTask: number;
  /** `-c ingest=https`: serve behind its load balancer. */
  readonly ingest?: HttpsIngest;

  constructor(scope: Construct, id: string, props: CanvasCaliperProps = {}) {
    super(scope, id, props);
    const p = {
      queueName: 'canvas-live-events',
      sourceRetentionDays: 4,
      dlqRetentionDays: 14,
      maxReceiveCount: 5,
      queueEncryption: 'sqs-managed' as const,
      canvasAccountId: INSTRUCTURE_ACCOUNT_ID,
      streamName: 'canvas-caliper',
      streamRetentionHours: 24,
      imageRepositoryName: 'canvas-caliper',
      imageTag: 'latest',
      cpu: 512,
      memoryMiB: 1024,
      minTasks: 1,
      maxTasks: 10,
      shutdownTimeoutS: 25,
      stopMarginS: 10,
      visibilityTimeoutS: 120,
      logRetentionDays: RetentionDays.ONE_MONTH,
      acceptableLatencyS: 60,
      perMessageSeconds: 0.005,
      oldestMessageAlarmS: 600,
      ingest: 'sqs' as const,
      ingestPath: '/',
      ingestCpu: 512,
      ingestMemoryMiB: 1024,
      ingestMinTasks: 2,
      ingestMaxTasks: 10,
      ingestRequestsPerTarget: 30_000,
      ...props,
    };
    const stopTimeoutS = p.shutdownTimeoutS + p.stopMarginS;
    if (stopTimeoutS > FARGATE_MAX_STOP_TIMEOUT_S) throw new Error(`shutdownTimeoutS + stopMarginS = ${stopTimeoutS} s, over Fargate's ${FARGATE_MAX_STOP_TIMEOUT_S} s stop timeout`);
    if (p.dlqRetentionDays <= p.sourceRetentionDays) throw new Error(`dlqRetentionDays (${p.dlqRetentionDays}) must be longer than sourceRetentionDays (${p.sourceRetentionDays}): SQS keeps a message's original enqueue time when it moves it to the DLQ`);
    // Target tracking multiplies the current task count: from zero tasks it can never scale out.
    if (p.minTasks < 1 || p.maxTasks < p.minTasks) throw new Error(`need 1 <= minTasks (${p.minTasks}) <= maxTasks (${p.maxTasks})`);
    if (p.allowCanvasToSend && p.sourceQueueArn) throw new Error('allowCanvasToSend applies to a created queue; an imported queue keeps the policy it has');
    if (p.ingest !== 'sqs' && p.ingest !== 'https') throw new Error(`ingest must be sqs or https, not '${String(p.ingest)}'`);
    if (p.ingest === 'https') {
      const missing = (['ingestCertificateArn', 'ingestDomain'] as const).filter((k) => !p[k]);
      if (p.clusterName && !p.publicSubnetIds?.length) missing.push('publicSubnetIds' as never);
      if (missing.length) throw new Error(`ingest=https needs ${missing.join(', ')} (HTTPS needs a certificate for a domain of yours: the load balancer's own name can have none, and API Gateway's default names do not resolve from Instructure's VPCs; docs/operations.md: Connecting Canvas over HTTPS)`);
      // The load balancer's access logs go to a bucket whose policy names the region's log delivery.
      if (Token.isUnresolved(this.region)) throw new Error('ingest=https needs the stack\'s region (CDK_DEFAULT_REGION, set by `cdk deploy` from the profile or AWS_REGION) for the load balancer\'s access logs');
      if (p.ingestMinTasks < 1 || p.ingestMaxTasks < p.ingestMinTasks) throw new Error(`need 1 <= ingestMinTasks (${p.ingestMinTasks}) <= ingestMaxTasks (${p.ingestMaxTasks})`);
    }
    const http = p.sink === 'caliper-http';
    if (p.sink !== undefined && p.sink !== 'kinesis' && !http) throw new Error(`sink must be kinesis or caliper-http, not '${String(p.sink)}'`);
    const endpoint = http ? caliperEndpoint(p) : undefined;
    if (http && (p.streamArn || p.streamKeyArn || p.shardCount)) throw new Error('sink caliper-http publishes to no stream: streamArn, streamKeyArn and shardCount are for sink kinesis');
    const endpointOnly = ENDPOINT_PROPS.filter((k) => p[k] !== undefined);
    if (!http && endpointOnly.length) throw new Error(`${endpointOnly.join(', ')}: for sink caliper-http (set -c sink=caliper-http, or leave them out)`);
    if (p.privacyKeySecretKeyArn && !p.privacyKeySecretArn) throw new Error('privacyKeySecretKeyArn is the KMS key of the secret privacyKeySecretArn names: set privacyKeySecretArn too');
    const personMapObject = p.personIdMap?.startsWith('s3://') ? /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(p.personIdMap) : undefined;
    if (personMapObject === null) throw new Error(`personIdMap must be s3://bucket/key or a path in the image, not '${p.personIdMap}'`);
    if (p.workerEnvironment?.PERSON_ID_MAP?.startsWith('s3://')) throw new Error('workerEnvironment PERSON_ID_MAP names an S3 object the task role may not read: set personIdMap instead (the stack grants s3:GetObject on it)');
    // A secret in the environment is readable by anyone who can read the task definition: each has its secret's ARN instead.
    for (const [name, instead] of SECRET_VARIABLES) {
      if (p.workerEnvironment?.[name] !== undefined) throw new Error(`workerEnvironment must not hold ${name} (anyone who can read the task definition could read it): ${instead}`);
    }
    // The sink's variables come from context values the stack checks and grants access for; workerEnvironment would override them unchecked.
    const stackSet = Object.keys(p.workerEnvironment ?? {}).filter((name) => Object.hasOwn(STACK_SET_VARIABLES, name));
    if (stackSet.length) throw new Error(`workerEnvironment must not hold ${stackSet.join(', ')}: the stack sets ${stackSet.length > 1 ? 'them' : 'it'} from ${stackSet.map((name) => `-c ${STACK_SET_VARIABLES[name]}`).join(', ')} (and grants the task role what ${stackSet.length > 1 ? 'they need' : 'it needs'})`);

    // Queues.
    const queueKey = !p.sourceQueueArn || !p.dlqArn ? (p.queueEncryption === 'kms' ? new Key(this, 'QueueKey', { enableKeyRotation: true, description: 'canvas-caliper queues' }) : undefined) : undefined;
    const encryption = queueKey ? { encryption: QueueEncryption.KMS, encryptionMasterKey: queueKey } : { encryption: QueueEncryption.SQS_MANAGED };
    this.dlq = p.dlqArn
      ? Queue.fromQueueArn(this, 'Dlq', p.dlqArn)
      : new Queue(this, 'Dlq', { queueName: `${p.queueName}-dlq`, retentionPeriod: Duration.days(p.dlqRetentionDays), enforceSSL: true, ...encryption });
    if (p.sourceQueueArn && !p.dlqArn) {
      Validations.of(this.dlq.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is the dead-letter queue of the imported source queue. CloudFormation cannot change an imported queue, so the redrive policy that points the source queue here is set by the operator from the RedrivePolicyForSourceQueue output (docs/operations.md: Deploying); a DLQ needs no DLQ of its own.',
      });
    }
    this.sourceQueue = p.sourceQueueArn
      ? Queue.fromQueueArn(this, 'SourceQueue', p.sourceQueueArn)
      : new Queue(this, 'SourceQueue', {
          queueName: p.queueName,
          retentionPeriod: Duration.days(p.sourceRetentionDays),
          visibilityTimeout: Duration.seconds(p.visibilityTimeoutS),
          deadLetterQueue: { queue: this.dlq, maxReceiveCount: p.maxReceiveCount },
          enforceSSL: true,
          ...encryption,
        });
    if (p.allowCanvasToSend) {
      const policy = new QueuePolicy(this, 'CanvasSendPolicy', { queues: [this.sourceQueue] });
      policy.document.addStatements(
        new PolicyStatement({ sid: 'CanvasLiveEvents', principals: [new AccountPrincipal(p.canvasAccountId)], actions: ['sqs:SendMessage'], resources: [this.sourceQueue.queueArn] }),
      );
      queueKey?.addToResourcePolicy(new PolicyStatement({ principals: [new AccountPrincipal(p.canvasAccountId)], actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: ['*'] }));
    }
    if (p.sourceQueueArn && !p.dlqArn) {
      // CloudFormation cannot change an imported queue: its redrive policy is the operator's to set (docs/operations.md: Deploying).
      new CfnOutput(this, 'RedrivePolicyForSourceQueue', {
        description: 'Set this RedrivePolicy on the imported source queue (aws sqs set-queue-attributes)',
        value: this.toJsonString({ deadLetterTargetArn: this.dlq.queueArn, maxReceiveCount: p.maxReceiveCount }),
      });
    }

    // Stream (sink kinesis), or the Caliper endpoint (sink caliper-http).
    this.stream = http
      ? undefined
      : p.streamArn
        ? Stream.fromStreamAttributes(this, 'Stream', { streamArn: p.streamArn, ...(p.streamKeyArn ? { encryptionKey: Key.fromKeyArn(this, 'StreamKey', p.streamKeyArn) } : {}) })
        : new Stream(this, 'Stream', {
            streamName: p.streamName,
            ...(p.shardCount ? { streamMode: StreamMode.PROVISIONED, shardCount: p.shardCount } : { streamMode: StreamMode.ON_DEMAND }),
            encryption: StreamEncryption.MANAGED,
            retentionPeriod: Duration.hours(p.streamRetentionHours),
          });
    const sinkEnv: Record<string, string> = this.stream
      ? p.streamArn
        ? { KINESIS_STREAM_ARN: p.streamArn }
        : { KINESIS_STREAM_NAME: this.stream.streamName }
      : endpoint!.environment;
    /** The worker's metrics carry the stream as it was configured (name or ARN), or the endpoint's origin and path (src/worker/sink.ts destinationOf). */
    const dimension: Record<string, string> = this.stream ? { Stream: p.streamArn ?? this.stream.streamName } : { Endpoint: ((u) => u.origin + u.pathname)(new URL(p.caliperEndpointUrl!)) };

    // The task role: exactly the calls the worker makes.
    this.taskRole = new Role(this, 'TaskRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'), description: 'canvas-caliper worker' });
    this.taskRole.addToPolicy(
      new PolicyStatement({
        sid: 'ConsumeSourceQueue',
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        resources: [this.sourceQueue.queueArn],
      }),
    );
    this.taskRole.addToPolicy(new PolicyStatement({ sid: 'ParkInDlq', actions: ['sqs:SendMessage'], resources: [this.dlq.queueArn] }));
    if (this.stream) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'PublishToStream', actions: ['kinesis:PutRecords'], resources: [this.stream.streamArn] }));
    // The endpoint's token secret, or its OAuth client secret: that one secret only (and its customer key).
    for (const statement of endpoint?.statements ?? []) this.taskRole.addToPolicy(statement);
    const sourceKeyArn = p.sourceQueueArn ? p.sourceQueueKeyArn : queueKey?.keyArn;
    const dlqKeyArn = p.dlqArn ? p.dlqKeyArn : queueKey?.keyArn;
    if (sourceKeyArn) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'DecryptSourceQueue', actions: ['kms:Decrypt'], resources: [sourceKeyArn] }));
    if (dlqKeyArn) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'EncryptDlq', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [dlqKeyArn] }));
    if (p.streamKeyArn) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'EncryptStream', actions: ['kms:GenerateDataKey'], resources: [p.streamKeyArn] }));
    if (p.privacyKeySecretArn) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'ReadPrivacyKey', actions: ['secretsmanager:GetSecretValue'], resources: [p.privacyKeySecretArn] }));
    if (p.privacyKeySecretKeyArn) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'DecryptPrivacyKey', actions: ['kms:Decrypt'], resources: [p.privacyKeySecretKeyArn] }));
    // PERSON_ID_MAP in S3: that one object, read at start and re-read (conditionally) while running.
    if (personMapObject) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'ReadPersonIdMap', actions: ['s3:GetObject'], resources: [`arn:${this.partition}:s3:::${personMapObject[1]}/${personMapObject[2]}`] }));

    // ECS.
    let vpc: IVpc;
    let cluster: ICluster;
    if (p.clusterName) {
      if (!p.vpcId || !p.subnetIds?.length || !p.availabilityZones?.length) throw new Error('an imported cluster needs vpcId, subnetIds and availabilityZones');
      vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: p.vpcId, availabilityZones: p.availabilityZones, privateSubnetIds: p.subnetIds, ...(p.publicSubnetIds?.length ? { publicSubnetIds: p.publicSubnetIds } : {}) });
      cluster = Cluster.fromClusterAttributes(this, 'Cluster', { clusterName: p.clusterName, vpc });
    } else {
      // The VPC is ours: its flow log (accepted and rejected traffic) goes to a log group with the same retention as the worker's.
      const flowLogGroup = new LogGroup(this, 'VpcFlowLogs', { retention: p.logRetentionDays });
      vpc = new Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1, flowLogs: { all: { destination: FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: FlowLogTrafficType.ALL } } });
      cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });
    }
    const logGroup = new LogGroup(this, 'Logs', { retention: p.logRetentionDays });
    const taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: p.cpu,
      memoryLimitMiB: p.memoryMiB,
      taskRole: this.taskRole,
      runtimePlatform: RUNTIME_PLATFORM,
    });
    const image = Repository.fromRepositoryName(this, 'Image', p.imageRepositoryName);
    taskDefinition.addContainer('worker', {
      image: ContainerImage.fromEcrRepository(image, p.imageTag),
      logging: LogDrivers.awsLogs({ logGroup, streamPrefix: 'worker' }),
      environment: {
        NODE_ENV: 'production',
        AWS_REGION: this.region,
        SQS_QUEUE_URL: this.sourceQueue.queueUrl,
        DLQ_URL: this.dlq.queueUrl,
        ...sinkEnv,
        VISIBILITY_TIMEOUT_S: String(p.visibilityTimeoutS),
        SHUTDOWN_TIMEOUT_MS: String(p.shutdownTimeoutS * 1000),
        HEALTH_PORT: '8080',
        ...(p.privacyKeySecretArn ? { PRIVACY_KEY_SECRET_ARN: p.privacyKeySecretArn } : {}),
        ...(p.personIdMap ? { PERSON_ID_MAP: p.personIdMap } : {}),
        ...p.workerEnvironment,
      },
      healthCheck: CONTAINER_HEALTH_CHECK,
      stopTimeout: Duration.seconds(stopTimeoutS),
      readonlyRootFilesystem: true,
    });
    Validations.of(taskDefinition.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: "The environment holds no secret: queue URLs, the stream name or ARN (or the Caliper endpoint's URL and its token secret's ARN, not the token: the worker reads the secret itself, at start and on a 401; or its OAuth client's token URL, client id, scope and client secret's ARN, not the client secret: the worker reads it at start), the region, NODE_ENV, timeouts, the health port and the tuning variables of docs/configuration.md (workerEnvironment is for those). Its AWS credentials come from the task role; the privacy key, too, is read from Secrets Manager at start (privacyKeySecretArn: only the ARN is in the environment, and a PRIVACY_KEY, CALIPER_ENDPOINT_TOKEN or CALIPER_ENDPOINT_CLIENT_SECRET in workerEnvironment stops the synthesis, as does a client secret or token as a context value).",
    });
    acknowledgeEcrLogin(taskDefinition);
    const securityGroup = new SecurityGroup(this, 'WorkerSecurityGroup', { vpc, description: 'canvas-caliper worker: outbound only (SQS, Kinesis, CloudWatch Logs, ECR)', allowAllOutbound: true });
    this.service = new FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: p.desiredTasks ?? p.minTasks,
      ...SERVICE_DEFAULTS,
      securityGroups: [securityGroup],
    });

    if (p.ingest === 'https') {
      this.ingest = new HttpsIngest(this, 'Ingest', {
        vpc,
        cluster,
        queue: this.sourceQueue,
        queueKeyArn: sourceKeyArn,
        image,
        imageTag: p.imageTag,
        logGroup,
        certificateArn: p.ingestCertificateArn!,
        domain: p.ingestDomain!,
        path: p.ingestPath,
        cpu: p.ingestCpu,
        memoryMiB: p.ingestMemoryMiB,
        minTasks: p.ingestMinTasks,
        maxTasks: p.ingestMaxTasks,
        requestsPerTarget: p.ingestRequestsPerTarget,
        shutdownTimeoutS: p.shutdownTimeoutS,
        stopTimeoutS: stopTimeoutS,
        logRetentionDays: p.logRetentionDays,
        environment: p.ingestEnvironment ?? {},
      });
    }

    // Scaling: target tracking on backlog per task (AWS's recommendation for queue workers). The target
    // is the backlog one task clears within the acceptable latency.
    this.targetBacklogPerTask = Math.max(1, Math.floor(p.acceptableLatencyS / p.perMessageSeconds));
    const queueMetric = (queue: IQueue, metricName: string, statistic: string, period = Duration.minutes(1)) =>
      new Metric({ namespace: 'AWS/SQS', metricName, dimensionsMap: { QueueName: queue.queueName }, statistic, period });
    const visible = queueMetric(this.sourceQueue, 'ApproximateNumberOfMessagesVisible', 'Sum');
    const runningTasks = new Metric({ namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: this.service.serviceName }, statistic: 'Average', period: Duration.minutes(1) });
    const scaling = new ScalableTarget(this, 'Scaling', {
      serviceNamespace: ServiceNamespace.ECS,
      resourceId: `service/${cluster.clusterName}/${this.service.serviceName}`,
      scalableDimension: 'ecs:service:DesiredCount',
      minCapacity: p.minTasks,
      maxCapacity: p.maxTasks,
      // Application Auto Scaling's service-linked role for ECS (as ECS's own autoScaleTaskCount uses), not a new role.
      role: Role.fromRoleArn(this, 'ScalingRole', `arn:${this.partition}:iam::${this.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`),
    });
    scaling.node.addDependency(this.service);
    const backlogPerTaskExpression = 'visible / IF(tasks > 0, tasks, 1)';
    // The scaling policy is an L1 resource (the L2 takes no metric math): its queries come from the same Metric objects.
    const metricQuery = (id: string, metric: Metric): CfnScalingPolicy.TargetTrackingMetricDataQueryProperty => {
      const stat = metric.toMetricConfig().metricStat!;
      return {
        id,
        returnData: false,
        metricStat: { metric: { namespace: stat.namespace, metricName: stat.metricName, dimensions: stat.dimensions?.map((d) => ({ name: d.name, value: String(d.value) })) }, stat: stat.statistic },
      };
    };
    new CfnScalingPolicy(this, 'BacklogPerTask', {
      policyName: `${this.stackName}-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: scaling.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: this.targetBacklogPerTask,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            metricQuery('visible', visible),
            metricQuery('tasks', runningTasks),
            { id: 'backlogPerTask', label: 'Messages visible per running task', returnData: true, expression: backlogPerTaskExpression },
          ],
        },
      },
    });

    // Alarms, to a topic.
    // enforceSSL: a topic policy refuses publishing without TLS. That policy replaces SNS's default one, so it
    // also allows CloudWatch to publish, for these alarms only (AlarmsPublish below).
    const topic = new Topic(this, 'AlarmTopic', { displayName: 'canvas-caliper alarms', enforceSSL: true });
    if (p.alarmEmail) topic.addSubscription(new EmailSubscription(p.alarmEmail));
    const workerMetric = (metricName: string, statistic: string) => new Metric({ namespace: 'CanvasCaliper', metricName, dimensionsMap: dimension, statistic, period: Duration.minutes(1) });
    const five = Duration.minutes(5);
    const dlqDepth = queueMetric(this.dlq, 'ApproximateNumberOfMessagesVisible', 'Maximum', five);
    const oldestAge = queueMetric(this.sourceQueue, 'ApproximateAgeOfOldestMessage', 'Maximum', five);
    const alarms = [
      new Alarm(this, 'DlqNotEmpty', {
        alarmDescription: 'Messages are parked in the DLQ: events that could not be mapped. Read their error_code and replay them (docs/operations.md: Replaying the dead-letter queue).',
        metric: dlqDepth,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'OldestMessageAge', {
        alarmDescription: `The oldest Canvas event in the source queue is older than ${p.oldestMessageAlarmS} s: data in the stream is late (workers down, too few, or Kinesis throttling).`,
        metric: oldestAge,
        threshold: p.oldestMessageAlarmS,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'NotPublishing', {
        alarmDescription: `The source queue has messages but the worker published nothing for 15 minutes (no tasks running, credentials, or the ${http ? 'Caliper endpoint' : 'stream'} refusing records).`,
        metric: new MathExpression({
          expression: 'IF(visible > 0 AND FILL(published, 0) == 0, 1, 0)',
          usingMetrics: { visible: queueMetric(this.sourceQueue, 'ApproximateNumberOfMessagesVisible', 'Minimum', five), published: workerMetric('Published', 'Sum').with({ period: five }) },
          period: five,
          label: 'Queue has messages and nothing was published',
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      ...(this.ingest?.alarms ?? []),
      ...(http ? this.endpointAlarms(workerMetric) : []),
    ];
    for (const alarm of alarms) alarm.addAlarmAction(new SnsAction(topic));
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': alarms.map((a) => a.alarmArn) }, StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    const perSecond = (id: string, m: IMetric, label: string) => new MathExpression({ expression: `${id} / PERIOD(${id})`, usingMetrics: { [id]: m }, label, period: Duration.minutes(1) });
    new Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-canvas-caliper`,
      widgets: [
        [
          new GraphWidget({ title: 'Backlog (source queue)', left: [visible.with({ label: 'visible' }), queueMetric(this.sourceQueue, 'ApproximateNumberOfMessagesNotVisible', 'Sum').with({ label: 'in flight' })], right: [new MathExpression({ expression: backlogPerTaskExpression, usingMetrics: { visible, tasks: runningTasks }, period: Duration.minutes(1), label: `backlog per task (target ${this.targetBacklogPerTask})` })] }),
          new GraphWidget({ title: 'Age of oldest message (s)', left: [oldestAge.with({ period: Duration.minutes(1) })], leftAnnotations: [{ value: p.oldestMessageAlarmS, label: 'alarm' }] }),
          new GraphWidget({ title: 'Published / s', left: [perSecond('published', workerMetric('Published', 'Sum'), 'published/s'), perSecond('received', workerMetric('Received', 'Sum'), 'received/s')] }),
        ],
        [
          new GraphWidget({ title: 'DLQ depth', left: [dlqDepth.with({ period: Duration.minutes(1) }), workerMetric('SentToDlq', 'Sum').with({ label: 'sent to DLQ' })] }),
          new GraphWidget({ title: http ? 'Caliper endpoint retries' : 'Kinesis retries', left: [workerMetric('Retries', 'Sum'), workerMetric('Released', 'Sum').with({ label: 'left in SQS (retry budget spent)' })] }),
          new GraphWidget({ title: 'Lag: now − event time (ms)', left: [workerMetric('LagMs', 'Maximum')], right: [runningTasks.with({ label: 'running tasks' })] }),
        ],
        ...(this.ingest ? [this.ingest.widgets] : []),
        ...(http
          ? [
              [
                new GraphWidget({
                  title: 'Caliper endpoint: requests by answer',
                  left: [workerMetric('Http2xx', 'Sum').with({ label: '2xx' }), workerMetric('Http4xx', 'Sum').with({ label: '4xx' }), workerMetric('Http5xx', 'Sum').with({ label: '5xx' }), workerMetric('HttpFailed', 'Sum').with({ label: 'timeouts, connection errors' })],
                }),
                new GraphWidget({
                  title: 'Caliper endpoint: mean latency (ms), bytes sent',
                  left: [new MathExpression({ expression: 'latency / IF(requests > 0, requests, 1)', usingMetrics: { latency: workerMetric('HttpLatencyMsSum', 'Sum'), requests: workerMetric('HttpRequests', 'Sum') }, period: Duration.minutes(1), label: 'mean latency (ms)' })],
                  right: [workerMetric('HttpBytes', 'Sum').with({ label: 'bytes sent' })],
                }),
                new GraphWidget({ title: 'Caliper endpoint: refused events, blocked', left: [workerMetric('RefusedByEndpoint', 'Sum').with({ label: 'events refused (to the DLQ)' })], right: [workerMetric('SinkBlocked', 'Maximum').with({ label: 'blocked (credentials refused)' })] }),
              ],
            ]
          : []),
      ],
    });

    new CfnOutput(this, 'SourceQueueUrl', { value: this.sourceQueue.queueUrl });
    new CfnOutput(this, 'DlqUrl', { value: this.dlq.queueUrl });
    if (this.stream) new CfnOutput(this, 'StreamArn', { value: this.stream.streamArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
  }

  /** sink caliper-http: the endpoint refuses our credentials (the worker stopped consuming), or most requests fail. */
  private endpointAlarms(workerMetric: (name: string, statistic: string) => Metric): Alarm[] {
    const five = Duration.minutes(5);
    return [
      new Alarm(this, 'EndpointRefusesCredentials', {
        alarmDescription: 'The Caliper endpoint refused the token (401/403) even after it was read again from its secret or fetched anew from the OAuth token endpoint, or the token endpoint refused our client: the worker stopped consuming and is unhealthy. Rotate or fix the secret or the client (docs/caliper-endpoint.md); the events wait in SQS.',
        metric: workerMetric('SinkBlocked', 'Maximum'),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'EndpointFailing', {
        alarmDescription: 'More than half of the requests to the Caliper endpoint failed (5xx, 429, timeouts, connection errors) for 15 minutes: the events wait in SQS and are retried.',
        metric: new MathExpression({
          expression: '(failed + server + throttled) / IF(requests > 0, requests, 1)',
          usingMetrics: { failed: workerMetric('HttpFailed', 'Sum').with({ period: five }), server: workerMetric('Http5xx', 'Sum').with({ period: five }), throttled: workerMetric('Http429', 'Sum').with({ period: five }), requests: workerMetric('HttpRequests', 'Sum').with({ period: five }) },
          period: five,
          label: 'share of requests failing',
        }),
        threshold: 0.5,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
