// What the stack's Fargate services (the worker, and serve with -c ingest=https) share: the platform,
// the container health check (`canvas-caliper healthcheck` reads /healthz on port 8080 in both), the
// deployment settings, and the one acknowledged wildcard of an execution role.
import { Duration, Validations } from 'aws-cdk-lib';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { CpuArchitecture, OperatingSystemFamily, type FargateTaskDefinition, type HealthCheck } from 'aws-cdk-lib/aws-ecs';

export const RUNTIME_PLATFORM = { cpuArchitecture: CpuArchitecture.X86_64, operatingSystemFamily: OperatingSystemFamily.LINUX };

export const CONTAINER_HEALTH_CHECK: HealthCheck = {
  command: ['CMD', 'node', 'bin/canvas-caliper.js', 'healthcheck'],
  interval: Duration.seconds(30),
  timeout: Duration.seconds(5),
  retries: 3,
  startPeriod: Duration.seconds(30),
};

/** Rolling deployments that keep full capacity, rolled back by the circuit breaker; private subnets, no public IP. */
export const SERVICE_DEFAULTS = {
  minHealthyPercent: 100,
  maxHealthyPercent: 200,
  circuitBreaker: { rollback: true },
  vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
  assignPublicIp: false,
} as const;

/**
 * The execution role pulls the image from the one repository and writes the one log group; ECR's login
 * call is the exception, and only that wildcard is acknowledged (any other would still be reported).
 */
export function acknowledgeEcrLogin(taskDefinition: FargateTaskDefinition): void {
  Validations.of(taskDefinition.executionRole!.node.findChild('DefaultPolicy').node.defaultChild!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken, the one statement on "*": the action has no resource type in IAM (it returns a login token for the whole registry), so AWS allows it only on "*". Pulling is granted on the one repository and logging on the one log group.',
  });
}
