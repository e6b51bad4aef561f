// CDK context (-c key=value, or cdk.json) to stack properties.
import { ENDPOINT_PROPS } from './endpoint.js';
import type { CanvasCaliperProps } from './stack.js';

const STRINGS = [...ENDPOINT_PROPS, 'sourceQueueArn', 'sourceQueueKeyArn', 'queueName', 'dlqArn', 'dlqKeyArn', 'queueEncryption', 'canvasAccountId', 'streamArn', 'streamKeyArn', 'streamName', 'clusterName', 'vpcId', 'imageRepositoryName', 'imageTag', 'alarmEmail', 'ingest', 'ingestCertificateArn', 'ingestDomain', 'ingestPath', 'sink', 'privacyKeySecretArn', 'privacyKeySecretKeyArn', 'personIdMap'] as const;
const NUMBERS = ['sourceRetentionDays', 'dlqRetentionDays', 'maxReceiveCount', 'shardCount', 'streamRetentionHours', 'cpu', 'memoryMiB', 'desiredTasks', 'minTasks', 'maxTasks', 'shutdownTimeoutS', 'stopMarginS', 'visibilityTimeoutS', 'logRetentionDays', 'acceptableLatencyS', 'perMessageSeconds', 'oldestMessageAlarmS', 'ingestCpu', 'ingestMemoryMiB', 'ingestMinTasks', 'ingestMaxTasks', 'ingestRequestsPerTarget'] as const;
const LISTS = ['subnetIds', 'availabilityZones', 'publicSubnetIds'] as const;
const BOOLEANS = ['allowCanvasToSend'] as const;
/** Secrets, never context values (cdk.json, the shell's history and the synthesised task definition would hold them): what to set instead. */
const SECRETS = {
  caliperEndpointClientSecret: 'put the client secret in Secrets Manager and set caliperEndpointClientSecretArn',
  caliperEndpointToken: 'put the token in Secrets Manager and set caliperEndpointTokenSecretArn',
  privacyKey: 'put the key in Secrets Manager and set privacyKeySecretArn',
} as const;

/** Stack properties from CDK context: numbers, comma-separated lists and booleans parsed; a bad number or encryption refused. */
export function propsFromContext(get: (key: string) => unknown): CanvasCaliperProps {
  // Refused before anything else, and never echoed.
  for (const [k, instead] of Object.entries(SECRETS)) if (get(k) !== undefined) throw new Error(`context ${k} is refused: a secret is no context value; ${instead}`);
  const props: Record<string, unknown> = {};
  for (const k of STRINGS) if (get(k) !== undefined) props[k] = String(get(k));
  for (const k of NUMBERS) {
    const v = get(k);
    if (v === undefined) continue;
    if (!Number.isFinite(Number(v))) throw new Error(`context ${k} must be a number, not '${String(v)}'`);
    props[k] = Number(v);
  }
  for (const k of LISTS) {
    const v = get(k);
    if (v !== undefined) props[k] = Array.isArray(v) ? v.map(String) : String(v).split(',').map((s) => s.trim()).filter(Boolean);
  }
  for (const k of BOOLEANS) {
    const v = get(k);
    if (v !== undefined) props[k] = v === true || v === 'true';
  }
  // The worker's and serve's other variables (CALIPER_FORMAT, EVENT_TYPES, …; LOG_LEVEL, CLOCK_TOLERANCE_S, …): JSON objects of strings.
  for (const key of ['workerEnvironment', 'ingestEnvironment'] as const) {
    const env = get(key);
    if (env === undefined) continue;
    let parsed: unknown = env;
    try {
      if (typeof env === 'string') parsed = JSON.parse(env);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      throw new Error(`context ${key} must be a JSON object of strings, e.g. {"${key === 'workerEnvironment' ? 'CALIPER_FORMAT":"caliper-1.2' : 'LOG_LEVEL":"warn'}"}`);
    }
    props[key] = parsed;
  }
  if (props.sink !== undefined && props.sink !== 'kinesis' && props.sink !== 'caliper-http') throw new Error('context sink must be kinesis or caliper-http');
  if (props.queueEncryption !== undefined && props.queueEncryption !== 'sqs-managed' && props.queueEncryption !== 'kms') throw new Error(`context queueEncryption must be sqs-managed or kms`);
  if (props.ingest !== undefined && props.ingest !== 'sqs' && props.ingest !== 'https') throw new Error(`context ingest must be sqs or https`);
  return props as CanvasCaliperProps;
}
