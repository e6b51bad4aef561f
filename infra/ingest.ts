// `-c ingest=https`: Canvas's HTTPS delivery. A second Fargate service runs `canvas-caliper serve`
// behind an internet-facing Application Load Balancer whose HTTPS listener (the certificate of the
// custom domain Canvas posts to) forwards only the ingest path; the rest gets a fixed 404. The
// service's task role may only sqs:SendMessage to the source queue (SendMessageBatch is authorised by
// it), and it scales on requests per target. ALB access logs go to a bucket of their own.
import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, GraphWidget, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Peer, Port, SecurityGroup, SubnetType, type IVpc } from 'aws-cdk-lib/aws-ec2';
import { ContainerImage, FargateService, FargateTaskDefinition, LogDrivers, type ICluster } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol, HttpCodeTarget, ListenerAction, ListenerCertificate, ListenerCondition, SslPolicy } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeEcrLogin, CONTAINER_HEALTH_CHECK, RUNTIME_PLATFORM, SERVICE_DEFAULTS } from './fargate.js';

/** The port `serve` listens on in the container (PORT), with /healthz beside the ingest path. */
const SERVE_PORT = 8080;

export interface HttpsIngestProps {
  vpc: IVpc;
  cluster: ICluster;
  queue: IQueue;
  /** The source queue's customer KMS key, when it has one: serve must encrypt with it. */
  queueKeyArn?: string;
  image: IRepository;
  imageTag: string;
  logGroup: ILogGroup;
  /** An ACM certificate for `domain`, in the stack's region. */
  certificateArn: string;
  /** The custom domain Canvas posts to (a CNAME or alias to the load balancer; see docs/operations.md: Connecting Canvas over HTTPS). */
  domain: string;
  /** The path Canvas posts to (serve's INGEST_PATH). */
  path: string;
  cpu: number;
  memoryMiB: number;
  minTasks: number;
  maxTasks: number;
  /** Scaling target: requests per task per minute (ALBRequestCountPerTarget). */
  requestsPerTarget: number;
  shutdownTimeoutS: number;
  stopTimeoutS: number;
  logRetentionDays: number;
  /** serve's other variables. */
  environment: Record<string, string>;
}

export class HttpsIngest extends Construct {
  readonly taskRole: Role;
  readonly service: FargateService;
  readonly loadBalancer: ApplicationLoadBalancer;
  readonly alarms: Alarm[];
  /** A dashboard row: requests by answer, latency, serve's outcomes. */
  readonly widgets: GraphWidget[];

  constructor(scope: Construct, id: string, p: HttpsIngestProps) {
    super(scope, id);
    this.taskRole = new Role(this, 'TaskRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'), description: 'canvas-caliper serve (HTTPS ingest)' });
    this.taskRole.addToPolicy(new PolicyStatement({ sid: 'EnqueueToSourceQueue', actions: ['sqs:SendMessage'], resources: [p.queue.queueArn] }));
    if (p.queueKeyArn) this.taskRole.addToPolicy(new PolicyStatement({ sid: 'EncryptSourceQueue', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [p.queueKeyArn] }));

    const taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: p.cpu,
      memoryLimitMiB: p.memoryMiB,
      taskRole: this.taskRole,
      runtimePlatform: RUNTIME_PLATFORM,
    });
    taskDefinition.addContainer('serve', {
      image: ContainerImage.fromEcrRepository(p.image, p.imageTag),
      command: ['node', 'bin/canvas-caliper.js', 'serve'],
      logging: LogDrivers.awsLogs({ logGroup: p.logGroup, streamPrefix: 'serve' }),
      environment: {
        NODE_ENV: 'production',
        AWS_REGION: taskDefinition.stack.region,
        SQS_QUEUE_URL: p.queue.queueUrl,
        PORT: String(SERVE_PORT),
        // `canvas-caliper healthcheck` reads serve's /healthz on the same port.
        HEALTH_PORT: String(SERVE_PORT),
        INGEST_PATH: p.path,
        SHUTDOWN_TIMEOUT_MS: String(p.shutdownTimeoutS * 1000),
        ...p.environment,
      },
      portMappings: [{ containerPort: SERVE_PORT }],
      healthCheck: CONTAINER_HEALTH_CHECK,
      stopTimeout: Duration.seconds(p.stopTimeoutS),
      readonlyRootFilesystem: true,
    });
    Validations.of(taskDefinition.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds no secret: the queue URL, the region, NODE_ENV, the port, the ingest path and the shutdown timeout. serve verifies tokens with public keys (the JWKS Instructure publishes) and takes no secret; its AWS credentials come from the task role.',
    });
    acknowledgeEcrLogin(taskDefinition);

    const lbSecurityGroup = new SecurityGroup(this, 'LoadBalancerSecurityGroup', { vpc: p.vpc, description: 'canvas-caliper HTTPS ingest: HTTPS from Canvas', allowAllOutbound: false });
    lbSecurityGroup.addIngressRule(Peer.anyIpv4(), Port.tcp(443), 'Canvas live events over HTTPS');
    Validations.of(lbSecurityGroup.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'Canvas posts live events from Instructure-owned networks that have no published address range, so the HTTPS listener is open to the internet; every request is authenticated by its JWT signature (Instructure\'s JWKS) before anything is enqueued, and only the ingest path is forwarded.',
    });
    const serviceSecurityGroup = new SecurityGroup(this, 'ServiceSecurityGroup', { vpc: p.vpc, description: 'canvas-caliper serve: from the load balancer; outbound to SQS, the JWKS, CloudWatch Logs, ECR', allowAllOutbound: true });
    serviceSecurityGroup.addIngressRule(lbSecurityGroup, Port.tcp(SERVE_PORT), 'from the ingest load balancer');
    lbSecurityGroup.addEgressRule(serviceSecurityGroup, Port.tcp(SERVE_PORT), 'to serve');

    this.service = new FargateService(this, 'Service', {
      cluster: p.cluster,
      taskDefinition,
      desiredCount: p.minTasks,
      ...SERVICE_DEFAULTS,
      securityGroups: [serviceSecurityGroup],
    });

    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(p.logRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the load balancer\'s access logs; logging access to the log bucket itself would need another log bucket, and so on.',
    });
    this.loadBalancer = new ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: p.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      securityGroup: lbSecurityGroup,
      dropInvalidHeaderFields: true,
      // Canvas's request bodies are small; the ALB's idle timeout stays below serve's keep-alive (KEEP_ALIVE_TIMEOUT_S 65).
      idleTimeout: Duration.seconds(60),
    });
    this.loadBalancer.logAccessLogs(accessLogs, 'ingest');
    const listener = this.loadBalancer.addListener('Https', {
      protocol: ApplicationProtocol.HTTPS,
      port: 443,
      open: false,
      certificates: [ListenerCertificate.fromArn(p.certificateArn)],
      sslPolicy: SslPolicy.RECOMMENDED_TLS,
      defaultAction: ListenerAction.fixedResponse(404, { contentType: 'application/json', messageBody: JSON.stringify({ error: `nothing here: POST the signed events to ${p.path}` }) }),
    });
    const targets = listener.addTargets('Serve', {
      priority: 10,
      conditions: [ListenerCondition.pathPatterns([p.path])],
      protocol: ApplicationProtocol.HTTP,
      port: SERVE_PORT,
      targets: [this.service],
      // Below the task's stop timeout: a draining task finishes its requests before SIGKILL.
      deregistrationDelay: Duration.seconds(Math.min(p.shutdownTimeoutS, 30)),
      healthCheck: { path: '/healthz', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3, timeout: Duration.seconds(5) },
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: p.minTasks, maxCapacity: p.maxTasks });
    scaling.scaleOnRequestCount('RequestsPerTarget', { requestsPerTarget: p.requestsPerTarget, targetGroup: targets, scaleOutCooldown: Duration.seconds(60), scaleInCooldown: Duration.seconds(300) });

    this.alarms = [
      new Alarm(this, 'Answering5xx', {
        alarmDescription: 'serve answered 5xx (SQS or the JWKS unavailable): Canvas retries, but repeated failures within 24 hours deactivate the subscription (docs/operations.md: Connecting Canvas over HTTPS).',
        metric: targets.metrics.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'NoHealthyTarget', {
        alarmDescription: 'No healthy serve task behind the load balancer: Canvas\'s posts fail.',
        metric: targets.metrics.healthyHostCount({ period: Duration.minutes(1), statistic: 'Minimum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: TreatMissingData.BREACHING,
      }),
    ];

    const minute = { period: Duration.minutes(1) };
    const outcome = (name: string) => new Metric({ namespace: 'CanvasCaliper', metricName: `Ingest_${name}`, dimensionsMap: { Service: 'serve' }, statistic: 'Sum', label: name, ...minute });
    this.widgets = [
      new GraphWidget({
        title: 'HTTPS ingest: requests',
        left: [targets.metrics.requestCount({ ...minute, label: 'requests' }), targets.metrics.httpCodeTarget(HttpCodeTarget.TARGET_2XX_COUNT, { ...minute, label: '2xx' }), targets.metrics.httpCodeTarget(HttpCodeTarget.TARGET_4XX_COUNT, { ...minute, label: '4xx' }), targets.metrics.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, { ...minute, label: '5xx' })],
        right: [targets.metrics.healthyHostCount({ ...minute, statistic: 'Minimum', label: 'healthy tasks' })],
      }),
      new GraphWidget({ title: 'HTTPS ingest: response time (s)', left: [targets.metrics.targetResponseTime({ ...minute, statistic: 'p99', label: 'p99' }), targets.metrics.targetResponseTime({ ...minute, statistic: 'p50', label: 'p50' })] }),
      new GraphWidget({ title: 'HTTPS ingest: refusals by reason', left: ['bad_signature', 'unknown_kid', 'alg_not_allowed', 'expired', 'claims_invalid', 'malformed_jwt', 'not_canvas_event', 'too_large', 'jwks_unavailable', 'sqs_unavailable'].map(outcome), right: [outcome('enqueued')] }),
    ];

    new CfnOutput(scope, 'IngestUrl', { description: 'The URL to give Canvas (Data Services, HTTPS delivery)', value: `https://${p.domain}${p.path}` });
    new CfnOutput(scope, 'IngestLoadBalancerDnsName', { description: `Point ${p.domain} here (a CNAME, or a Route 53 alias)`, value: this.loadBalancer.loadBalancerDnsName });
  }
}
