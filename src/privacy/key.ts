// The privacy key: from PRIVACY_KEY, or from the Secrets Manager secret PRIVACY_KEY_SECRET_ARN read once
// at start. Its value never appears in an error, a log line or the output: only its length and key id do.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MIN_KEY_BYTES, Privacy, type Policy } from './policy.js';

/**
 * The key bytes of a key text: `base64:<base64>` or `hex:<hex digits>` decoded, anything else the
 * text's UTF-8 bytes. Throws (naming `name`, never the value) when it does not decode, has fewer than
 * 32 bytes or is guessable (checkKey).
 */
export function parseKey(text: string, name: string): Buffer {
  let key: Buffer;
  if (text.startsWith('base64:')) {
    const b64 = text.slice(7).trim();
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new Error(`${name} starts with base64: but the rest is not base64`);
    key = Buffer.from(b64, 'base64');
  } else if (text.startsWith('hex:')) {
    const hex = text.slice(4).trim();
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`${name} starts with hex: but the rest is not an even number of hex digits`);
    key = Buffer.from(hex, 'hex');
  } else {
    key = Buffer.from(text, 'utf8');
  }
  return checkKey(key, name);
}

/** The key bytes, when they make a key: at least 32 bytes, not guessable (`weakness`); else throws naming `name`, never the value. */
function checkKey(key: Buffer, name: string): Buffer {
  if (key.length < MIN_KEY_BYTES) throw new Error(`${name} must be at least ${MIN_KEY_BYTES} bytes (it has ${key.length}); ${MAKE_ONE}`);
  const weak = weakness(key);
  if (weak) throw new Error(`${name} ${weak}: anyone could guess it, and with it every pseudonym; ${MAKE_ONE}`);
  return key;
}

const MAKE_ONE = 'make one with PRIVACY_KEY=base64:$(openssl rand -base64 32)';

/** Keys that were printed in our docs as examples: public, so refused. */
const EXAMPLE_KEYS: readonly string[] = ['an example key: use 32 random bytes of your own'];
/** The longest pattern whose repetition is refused as a key (`abcdabcd…`, two equal 16-byte halves). */
const MAX_PATTERN = 16;

/** What makes a key guessable, or undefined: an example key of the docs, one byte repeated, a short pattern repeated. */
function weakness(key: Buffer): string | undefined {
  if (EXAMPLE_KEYS.some((example) => key.equals(Buffer.from(example, 'utf8')))) return 'is the example key printed in the documentation';
  for (let period = 1; period <= MAX_PATTERN && period < key.length; period++) {
    let repeats = true;
    for (let i = period; i < key.length && repeats; i++) repeats = key[i] === key[i - period];
    if (repeats) return period === 1 ? 'is one byte repeated' : `is a pattern of ${period} bytes repeated`;
  }
  return undefined;
}

export interface PrivacyConfig {
  PRIVACY: Policy;
  PRIVACY_KEY?: string;
  PRIVACY_KEY_SECRET_ARN?: string;
  PRIVACY_KEY_ID?: string;
  PRIVACY_IP?: 'truncate' | 'drop';
  PRIVACY_KEEP_TEXT?: '0' | '1';
}

/** The policy of a configuration whose key is known (PRIVACY_KEY, or `key` read from the secret); undefined for keep. */
export function privacyOf(config: PrivacyConfig, key?: Buffer): Privacy | undefined {
  if (config.PRIVACY === 'keep') return undefined;
  const bytes = key ?? (config.PRIVACY_KEY === undefined ? undefined : parseKey(config.PRIVACY_KEY, 'PRIVACY_KEY'));
  if (!bytes) throw new Error(`PRIVACY=${config.PRIVACY} needs PRIVACY_KEY or PRIVACY_KEY_SECRET_ARN`);
  return new Privacy({ policy: config.PRIVACY, key: bytes, keyId: config.PRIVACY_KEY_ID, ip: config.PRIVACY_IP, keepText: config.PRIVACY_KEEP_TEXT === '1' });
}

/**
 * Reads the key from the Secrets Manager secret: its SecretString (in PRIVACY_KEY's encoding) or its
 * SecretBinary (the key bytes). Throws an Error naming the ARN and the SDK's error name, never a value.
 */
export async function readKeySecret(arn: string, client?: Pick<SecretsManagerClient, 'send'>): Promise<Buffer> {
  // Loaded only when a secret is read: `map` and the worker without one do not pay for the SDK client.
  // The client is made as the endpoint token's is (src/worker/token.ts), in the secret's own region.
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const { createSecretsClient } = await import('../worker/token.js');
  let answer;
  try {
    answer = await (client ?? createSecretsClient(regionOf(arn))).send(new sdk.GetSecretValueCommand({ SecretId: arn }));
  } catch (err) {
    throw new Error(`PRIVACY_KEY_SECRET_ARN: could not read ${arn}: ${(err as Error).name}: ${(err as Error).message}`);
  }
  if (answer.SecretString !== undefined) return parseKey(answer.SecretString, `the secret ${arn}`);
  if (answer.SecretBinary !== undefined) {
    return checkKey(Buffer.from(answer.SecretBinary), `the secret ${arn}`);
  }
  throw new Error(`the secret ${arn} has neither SecretString nor SecretBinary`);
}

/** The region of a Secrets Manager ARN (`arn:aws:secretsmanager:<region>:…`). */
const regionOf = (arn: string): string => arn.split(':')[3] ?? '';
