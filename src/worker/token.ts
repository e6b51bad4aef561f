// The Caliper endpoint's bearer token: from CALIPER_ENDPOINT_TOKEN, or (in AWS) from the Secrets
// Manager secret CALIPER_ENDPOINT_TOKEN_SECRET_ARN, read at start and again when the endpoint answers
// 401/403. The token is only ever put in the Authorization header; `redact` takes it (and the extra
// headers' values) out of any text that could be logged or parked.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientConfig, leanStack } from './clients.js';

export interface TokenSource {
  /** The current token. */
  readonly token: string;
  /** Reads it again (the secret may have been rotated); a token from the environment stays as it is. */
  refresh(): Promise<void>;
}

/** A token given as it is (CALIPER_ENDPOINT_TOKEN, `map --post`). */
export const staticToken = (token: string): TokenSource => ({ token, refresh: async () => {} });

/**
 * The token in a Secrets Manager secret: its SecretString, either the token itself or a JSON object
 * with a `token` property. Read now (a failure is thrown, without the secret's value).
 */
export async function secretToken(client: SecretsManagerClient, secretId: string): Promise<TokenSource> {
  const read = async (): Promise<string> => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    return tokenIn(out.SecretString, secretId);
  };
  let token = await read();
  return {
    get token() {
      return token;
    },
    async refresh() {
      token = await read();
    },
  };
}

function tokenIn(secret: string | undefined, secretId: string): string {
  const text = secret?.trim() ?? '';
  let token = text;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`the secret ${secretId} starts with { but is not JSON (it must hold the token, or {"token": "..."})`);
    }
    const value = (parsed as { token?: unknown }).token;
    if (typeof value !== 'string') throw new Error(`the secret ${secretId} is a JSON object without a "token" string`);
    token = value.trim();
  }
  if (!token) throw new Error(`the secret ${secretId} holds no token (SecretString is empty)`);
  if (/[\r\n]/.test(token)) throw new Error(`the token in the secret ${secretId} has a line break in it`);
  return token;
}

/** Made as the SQS and Kinesis clients are (clients.ts): the lean handler with each attempt's deadline, no logger middleware. */
export function createSecretsClient(region: string, endpoint?: string): SecretsManagerClient {
  const client = new SecretsManagerClient({ ...clientConfig({ region }), ...(endpoint ? { endpoint } : {}) });
  leanStack(client);
  return client;
}

const REDACTED = '[redacted]';

/** `text` with every secret (the token, extra header values) and any bearer credential replaced. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join(REDACTED);
  return out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`);
}
