// The privacy policy's configuration: PRIVACY* checked at start with every problem at once, the key
// from PRIVACY_KEY (raw, base64:, hex:) or a Secrets Manager secret (aws-sdk-client-mock), never
// shown; `map --privacy` with the same variables; `run` refuses a bad one before anything starts.
import fs from 'node:fs';
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadPrivacy, mapOptions, withPrivacyKey } from '../src/config.js';
import { main, type Io } from '../src/cli.js';
import { parseKey } from '../src/privacy/key.js';
import { anchorOf, Privacy } from '../src/privacy/policy.js';
import { runWorker } from '../src/worker/run.js';
import { SEND_TIME } from './helpers.js';

const BASE = { SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', KINESIS_STREAM_NAME: 's', AWS_REGION: 'us-east-1' };
const KEY = 'a raw key text of thirty-two bytes or more';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:canvas-caliper-privacy-AbCdEf';
const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ ...BASE, ...env });
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};
const secrets = mockClient(SecretsManagerClient);
afterEach(() => secrets.reset());

describe('PRIVACY* in the configuration', () => {
  it('defaults to keep: no privacy pass at all', () => {
    const config = loadConfig(BASE);
    expect(config.PRIVACY).toBe('keep');
    expect(mapOptions(config).privacy).toBeUndefined();
  });

  it('pseudonymise with PRIVACY_KEY: the policy reaches mapOptions (run and replay-dlq --direct)', () => {
    const privacy = mapOptions(loadConfig({ ...BASE, PRIVACY: 'pseudonymise', PRIVACY_KEY: KEY, PRIVACY_KEY_ID: '2026-12', PRIVACY_IP: 'drop', PRIVACY_KEEP_TEXT: '1' })).privacy!;
    expect(privacy).toBeInstanceOf(Privacy);
    expect({ policy: privacy.policy, keyId: privacy.keyId, ip: privacy.ip, keepText: privacy.keepText }).toEqual({ policy: 'pseudonymise', keyId: '2026-12', ip: 'drop', keepText: true });
    expect(privacy.pseudonym('user', '1')).toBe(new Privacy({ policy: 'drop', key: Buffer.from(KEY) }).pseudonym('user', '1'));
  });

  it('every problem at once, naming the variable and never the key', () => {
    expect(problems({ PRIVACY: 'hide' })).toEqual(['PRIVACY must be keep, pseudonymise, drop']);
    expect(problems({ PRIVACY: 'pseudonymise' })).toEqual(["PRIVACY=pseudonymise needs exactly one of PRIVACY_KEY and PRIVACY_KEY_SECRET_ARN (the pseudonyms' key)"]);
    expect(problems({ PRIVACY: 'drop', PRIVACY_KEY: KEY, PRIVACY_KEY_SECRET_ARN: ARN })).toEqual(["PRIVACY=drop needs exactly one of PRIVACY_KEY and PRIVACY_KEY_SECRET_ARN (the pseudonyms' key)"]);
    const short = problems({ PRIVACY: 'pseudonymise', PRIVACY_KEY: 'too-short-secret', PRIVACY_IP: 'mask', PRIVACY_KEY_SECRET_ARN: 'arn:nope' });
    expect(short).toEqual([
      'PRIVACY_KEY must be at least 32 bytes (it has 16); make one with PRIVACY_KEY=base64:$(openssl rand -base64 32)',
      'PRIVACY_KEY_SECRET_ARN must be a Secrets Manager secret ARN',
      'PRIVACY_IP must be truncate or drop',
    ]);
    expect(short.join(' ')).not.toContain('too-short-secret');
    expect(problems({ PRIVACY_KEY: KEY, PRIVACY_IP: 'drop' })).toEqual(['PRIVACY_KEY, PRIVACY_IP: options of PRIVACY=pseudonymise or drop (PRIVACY is keep)']);
    expect(problems({ PRIVACY: 'drop', PRIVACY_KEY: KEY, PRIVACY_KEEP_TEXT: '1' })).toEqual([
      'PRIVACY_IP and PRIVACY_KEEP_TEXT are options of PRIVACY=pseudonymise (drop removes IP addresses and free text)',
    ]);
  });

  it('a key as raw text, base64: or hex:, at least 32 bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));
    expect(parseKey(`base64:${bytes.toString('base64')}`, 'K')).toEqual(bytes);
    expect(parseKey(`hex:${bytes.toString('hex')}`, 'K')).toEqual(bytes);
    expect(parseKey(KEY, 'K')).toEqual(Buffer.from(KEY));
    expect(() => parseKey(`base64:${Buffer.alloc(31).toString('base64')}`, 'K')).toThrow('K must be at least 32 bytes (it has 31)');
    expect(() => parseKey('hex:abc', 'K')).toThrow('K starts with hex: but the rest is not an even number of hex digits');
  });

  it('refuses guessable keys, saying how to make one: the docs’ example key, one byte repeated, a short pattern repeated', () => {
    const make = 'make one with PRIVACY_KEY=base64:$(openssl rand -base64 32)';
    expect(() => parseKey('an example key: use 32 random bytes of your own', 'K')).toThrow(`K is the example key printed in the documentation: anyone could guess it, and with it every pseudonym; ${make}`);
    expect(() => parseKey(`base64:${Buffer.alloc(32, 7).toString('base64')}`, 'K')).toThrow('K is one byte repeated');
    expect(() => parseKey('a'.repeat(40), 'K')).toThrow('K is one byte repeated');
    expect(() => parseKey('abcd'.repeat(10), 'K')).toThrow('K is a pattern of 4 bytes repeated');
    expect(() => parseKey(`hex:${'0123456789abcdef'.repeat(4)}`, 'K')).toThrow('K is a pattern of 8 bytes repeated');
    // Two equal 16-byte halves are refused; a pattern of 17 bytes and a text with an unrepeated tail are not.
    expect(() => parseKey('0123456789abcdef0123456789abcdef', 'K')).toThrow('K is a pattern of 16 bytes repeated');
    expect(parseKey('0123456789abcdefg0123456789abcdefg', 'K')).toHaveLength(34);
    expect(parseKey('abcd'.repeat(10) + 'x', 'K')).toHaveLength(41);
    expect(problems({ PRIVACY: 'drop', PRIVACY_KEY: 'x'.repeat(32) })).toEqual([`PRIVACY_KEY is one byte repeated: anyone could guess it, and with it every pseudonym; ${make}`]);
  });

  it('a secret’s key is held to the same rules (SecretBinary too)', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(32).fill(3) });
    await expect(withPrivacyKey(loadConfig({ ...BASE, PRIVACY: 'drop', PRIVACY_KEY_SECRET_ARN: ARN }))).rejects.toThrow(`the secret ${ARN} is one byte repeated`);
  });

  it('PRIVACY_KEY_SECRET_ARN: read once at start from Secrets Manager (SecretString or SecretBinary); a failure names the ARN only', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: KEY });
    const config = await withPrivacyKey(loadConfig({ ...BASE, PRIVACY: 'pseudonymise', PRIVACY_KEY_SECRET_ARN: ARN }));
    expect(config.privacy!.pseudonym('user', '1')).toBe(new Privacy({ policy: 'pseudonymise', key: Buffer.from(KEY) }).pseudonym('user', '1'));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    // Before the secret is read there is no silent keep: mapOptions refuses.
    expect(() => mapOptions(loadConfig({ ...BASE, PRIVACY: 'drop', PRIVACY_KEY_SECRET_ARN: ARN }))).toThrow('PRIVACY=drop: the key was not read');

    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)) });
    expect((await withPrivacyKey(loadConfig({ ...BASE, PRIVACY: 'drop', PRIVACY_KEY_SECRET_ARN: ARN }))).privacy!.policy).toBe('drop');

    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
    await expect(withPrivacyKey(loadConfig({ ...BASE, PRIVACY: 'drop', PRIVACY_KEY_SECRET_ARN: ARN }))).rejects.toThrow(`the secret ${ARN} must be at least 32 bytes (it has 5)`);

    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }));
    const err = await withPrivacyKey(loadConfig({ ...BASE, PRIVACY: 'drop', PRIVACY_KEY_SECRET_ARN: ARN })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([`PRIVACY_KEY_SECRET_ARN: could not read ${ARN}: AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue`]);
  });

  it('run: a missing key stops the worker at start, exit 2, before any AWS call', async () => {
    let stderr = '';
    const code = await runWorker({ env: { ...BASE, PRIVACY: 'pseudonymise', LOG_LEVEL: 'silent' }, stdout: () => {}, stderr: (t) => void (stderr += t) });
    expect({ code, stderr }).toEqual({ code: 2, stderr: "canvas-caliper run: invalid configuration:\n  PRIVACY=pseudonymise needs exactly one of PRIVACY_KEY and PRIVACY_KEY_SECRET_ARN (the pseudonyms' key)\n" });
  });

  it('loadPrivacy (map) checks the same variables, PRIVACY from the environment unless --privacy is given', async () => {
    expect(await loadPrivacy({}, 'keep')).toBeUndefined();
    expect(await loadPrivacy({})).toBeUndefined();
    expect((await loadPrivacy({ PRIVACY: 'drop', PRIVACY_KEY: KEY }))!.policy).toBe('drop');
    expect((await loadPrivacy({ PRIVACY: 'drop', PRIVACY_KEY: KEY }, 'pseudonymise'))!.policy).toBe('pseudonymise');
    // Any PRIVACY_* with keep is an error, keep explicit or by default.
    await expect(loadPrivacy({ PRIVACY_KEY: KEY })).rejects.toThrow('PRIVACY_KEY: options of PRIVACY=pseudonymise or drop (PRIVACY is keep)');
    await expect(loadPrivacy({ PRIVACY_KEEP_TEXT: '1' }, 'keep')).rejects.toThrow('PRIVACY_KEEP_TEXT: options of PRIVACY=pseudonymise or drop (PRIVACY is keep)');
    expect((await loadPrivacy({ PRIVACY_KEY: KEY }, 'drop'))!.policy).toBe('drop');
    await expect(loadPrivacy({}, 'pseudonymise')).rejects.toThrow('needs exactly one of PRIVACY_KEY and PRIVACY_KEY_SECRET_ARN');
  });
});

describe('map --privacy', () => {
  // The sample with a user id of its own (its user_id is also its root account's id).
  const input = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'samples', 'enrollment_created.json'), 'utf8')) as { metadata: Record<string, unknown> };
  input.metadata.user_id = '21070000000004242';
  const sample = JSON.stringify(input);
  async function map(argv: string[], env: Record<string, string>) {
    let stdout = '';
    let stderr = '';
    const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [sample], env };
    return { code: await main(['map', '--send-time', SEND_TIME, ...argv], io), stdout, stderr };
  }

  it('pseudonymise: no name, login or user id of the input; keep (the default) as before', async () => {
    const raw = JSON.parse(sample) as { metadata: { user_id: string; user_login: string }; body: { user_name: string } };
    const out = await map(['--privacy', 'pseudonymise'], { PRIVACY_KEY: KEY });
    expect(out.code).toBe(0);
    for (const value of [raw.metadata.user_id, raw.metadata.user_login, raw.body.user_name]) expect(out.stdout).not.toContain(value);
    expect(out.stdout).toContain(`urn:instructure:canvas:user:${new Privacy({ policy: 'pseudonymise', key: Buffer.from(KEY) }).userPseudonym(raw.metadata.user_id, anchorOf(input.metadata))}`);
    expect((await map(['--privacy', 'keep'], {})).stdout).toBe((await map([], {})).stdout);
  });

  it('map honours PRIVACY, PRIVACY_IP and PRIVACY_KEEP_TEXT from the environment as run does; --privacy overrides PRIVACY', async () => {
    const byEnv = await map([], { PRIVACY: 'pseudonymise', PRIVACY_KEY: KEY, PRIVACY_IP: 'drop' });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toBe((await map(['--privacy', 'pseudonymise'], { PRIVACY_KEY: KEY, PRIVACY_IP: 'drop' })).stdout);
    expect(byEnv.stdout).toContain('"privacy":"pseudonymise"');
    expect(byEnv.stdout).not.toContain('client_ip');
    expect((await map(['--privacy', 'drop'], { PRIVACY: 'pseudonymise', PRIVACY_KEY: KEY })).stdout).toContain('"privacy":"drop"');
    // keep by default with a PRIVACY_* set: the same error as run's, not a silent keep.
    expect(await map([], { PRIVACY_KEY: KEY })).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('privacy: PRIVACY_KEY: options of PRIVACY=pseudonymise or drop (PRIVACY is keep)') });
    expect(await map(['--privacy', 'keep'], { PRIVACY_KEY: KEY })).toMatchObject({ code: 2, stderr: expect.stringContaining('--privacy keep: PRIVACY_KEY: options of PRIVACY=pseudonymise or drop') });
    expect(problems({ PRIVACY_KEY: KEY })).toEqual(['PRIVACY_KEY: options of PRIVACY=pseudonymise or drop (PRIVACY is keep)']);
  });

  it('usage errors (exit 2): an unknown policy, a missing or short key, never echoing the key', async () => {
    expect(await map(['--privacy', 'hide'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining("--privacy must be keep, pseudonymise, drop, not 'hide'") });
    const missing = await map(['--privacy', 'drop'], {});
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('--privacy drop: PRIVACY=drop needs exactly one of PRIVACY_KEY and PRIVACY_KEY_SECRET_ARN') });
    const short = await map(['--privacy', 'drop'], { PRIVACY_KEY: 'hunter2hunter2' });
    expect(short).toMatchObject({ code: 2, stderr: expect.stringContaining('PRIVACY_KEY must be at least 32 bytes (it has 14)') });
    expect(short.stderr).not.toContain('hunter2');
  });
});
