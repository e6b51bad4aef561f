// sink caliper-http: the Caliper endpoint's context values, checked, as the worker's variables
// (docs/caliper-endpoint.md) and the secrets its task role may read. The endpoint's token comes either
// from a Secrets Manager secret holding it, or from OAuth 2.0 client credentials whose client secret is in
// Secrets Manager: a secret itself is never a context value, and never in the task definition.
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

export interface EndpointProps {
  /** The endpoint (https). */
  caliperEndpointUrl?: string;
  /** A static token: the Secrets Manager secret holding it; the task role may read this one secret. */
  caliperEndpointTokenSecretArn?: string;
  /** The customer KMS key of that secret, if it has one (the task role may decrypt with it). */
  caliperEndpointTokenKeyArn?: string;
  /** OAuth 2.0 client credentials instead: the token endpoint (https). */
  caliperEndpointTokenUrl?: string;
  /** The client id (not a secret); optional when the client secret's secret is JSON holding client_id. */
  caliperEndpointClientId?: string;
  /** The Secrets Manager secret holding the client secret, or {"client_id","client_secret"}; the task role may read this one secret. */
  caliperEndpointClientSecretArn?: string;
  /** The customer KMS key of that secret, if it has one (the task role may decrypt with it). */
  caliperEndpointClientSecretKeyArn?: string;
  caliperEndpointScope?: string;
  caliperEndpointAuthMethod?: (typeof AUTH_METHODS)[number];
}

/** Each context value the worker sees, and its variable. (The KMS keys are the task role's business only.) */
export const ENDPOINT_VARIABLES = {
  caliperEndpointUrl: 'CALIPER_ENDPOINT_URL',
  caliperEndpointTokenSecretArn: 'CALIPER_ENDPOINT_TOKEN_SECRET_ARN',
  caliperEndpointTokenUrl: 'CALIPER_ENDPOINT_TOKEN_URL',
  caliperEndpointClientId: 'CALIPER_ENDPOINT_CLIENT_ID',
  caliperEndpointClientSecretArn: 'CALIPER_ENDPOINT_CLIENT_SECRET_ARN',
  caliperEndpointScope: 'CALIPER_ENDPOINT_SCOPE',
  caliperEndpointAuthMethod: 'CALIPER_ENDPOINT_AUTH_METHOD',
} as const satisfies Partial<Record<keyof EndpointProps, string>>;

/** The secrets the worker reads, each with its customer key and the names of the statements that grant them. */
const SECRETS = [
  // The token: read at start and again on a 401/403 (rotation needs no restart).
  { secret: 'caliperEndpointTokenSecretArn', key: 'caliperEndpointTokenKeyArn', grant: 'EndpointToken' },
  // The OAuth client secret: read once at start.
  { secret: 'caliperEndpointClientSecretArn', key: 'caliperEndpointClientSecretKeyArn', grant: 'EndpointClientSecret' },
] as const;

/** The OAuth 2.0 options, which mean nothing without caliperEndpointTokenUrl. */
const OAUTH_OPTIONS = ['caliperEndpointClientId', 'caliperEndpointClientSecretArn', 'caliperEndpointClientSecretKeyArn', 'caliperEndpointScope', 'caliperEndpointAuthMethod'] as const;

/** Every endpoint context value (all strings): with sink kinesis, none may be set. */
export const ENDPOINT_PROPS = ['caliperEndpointUrl', 'caliperEndpointTokenSecretArn', 'caliperEndpointTokenKeyArn', 'caliperEndpointTokenUrl', ...OAUTH_OPTIONS] as const satisfies readonly (keyof EndpointProps)[];

/** The worker's variables that only the stack sets (from the context values above): in workerEnvironment they would bypass its checks and grants. */
export const STACK_SET_VARIABLES: Record<string, string> = { SINK: 'sink', ...Object.fromEntries(Object.entries(ENDPOINT_VARIABLES).map(([prop, name]) => [name, prop])) };

/** The endpoint's context values as the worker's environment and the task role's statements; what cannot work is refused, naming the context value. */
export function caliperEndpoint(p: EndpointProps): { environment: Record<string, string>; statements: PolicyStatement[] } {
  // `-c caliperEndpointClientId=` gives an empty string, which the worker would refuse at start, task after task.
  const empty = ENDPOINT_PROPS.filter((k) => p[k] === '');
  if (empty.length) throw new Error(`${empty.join(', ')}: empty; give a value or leave ${empty.length > 1 ? 'them' : 'it'} out`);
  const oauth = p.caliperEndpointTokenUrl !== undefined;
  if (!p.caliperEndpointUrl?.startsWith('https://')) throw new Error('sink caliper-http needs caliperEndpointUrl (https://...)');
  if (oauth && p.caliperEndpointTokenSecretArn) {
    throw new Error('caliperEndpointTokenSecretArn (a token in Secrets Manager) and caliperEndpointTokenUrl (OAuth 2.0 client credentials) are two ways to the same token: set one of them');
  }
  if (!oauth && !p.caliperEndpointTokenSecretArn) {
    throw new Error('sink caliper-http needs caliperEndpointTokenSecretArn (a token in Secrets Manager) or caliperEndpointTokenUrl with caliperEndpointClientSecretArn (OAuth 2.0 client credentials)');
  }
  const orphans = OAUTH_OPTIONS.filter((k) => p[k] !== undefined);
  if (!oauth && orphans.length) throw new Error(`${orphans.join(', ')}: options of OAuth 2.0 client credentials, which need caliperEndpointTokenUrl`);
  if (oauth && !p.caliperEndpointTokenUrl!.startsWith('https://')) throw new Error('caliperEndpointTokenUrl must be https://... (the client secret crosses the network)');
  if (oauth && !p.caliperEndpointClientSecretArn) {
    throw new Error('caliperEndpointTokenUrl needs caliperEndpointClientSecretArn: the Secrets Manager secret holding the client secret (or {"client_id","client_secret"}); the client secret itself is never a context value');
  }
  if (p.caliperEndpointAuthMethod !== undefined && !AUTH_METHODS.includes(p.caliperEndpointAuthMethod)) {
    throw new Error(`caliperEndpointAuthMethod must be ${AUTH_METHODS.join(' or ')}, not '${String(p.caliperEndpointAuthMethod)}'`);
  }
  // Two keys of two secrets, easily confused: the message names the other one too.
  for (const [s, other] of [[SECRETS[0], SECRETS[1]], [SECRETS[1], SECRETS[0]]] as const) {
    if (p[s.key] && !p[s.secret]) throw new Error(`${s.key} is the KMS key of ${s.secret}'s secret, which is not set (the key of ${other.secret}'s secret is ${other.key})`);
  }

  const environment: Record<string, string> = { SINK: 'caliper-http' };
  for (const [prop, name] of Object.entries(ENDPOINT_VARIABLES)) {
    const value = p[prop as keyof typeof ENDPOINT_VARIABLES];
    if (value !== undefined) environment[name] = value;
  }
  // This one secret, and its key when it has a customer key: nothing else in Secrets Manager or KMS.
  const statements = SECRETS.flatMap((s) => {
    const secret = p[s.secret];
    const key = p[s.key];
    if (!secret) return [];
    return [
      new PolicyStatement({ sid: `Read${s.grant}`, actions: ['secretsmanager:GetSecretValue'], resources: [secret] }),
      ...(key ? [new PolicyStatement({ sid: `Decrypt${s.grant}`, actions: ['kms:Decrypt'], resources: [key] })] : []),
    ];
  });
  return { environment, statements };
}
