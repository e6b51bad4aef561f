// The privacy policy (src/privacy): every fixture of the 82 types in each policy and each format maps
// to output that passes our validator and IMS's JSON Schema of its version and holds none of the
// input's personal values (names, logins, e-mails, SIS ids, IPs, user agents, free text, user ids as
// digits anywhere); one user has one pseudonym across types, formats and policies; two keys differ;
// keep is byte for byte the output without a policy. The table covers every field Canvas documents.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { mapEvent, mapInput, type MapOptions } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { FORMATS, serializeEnvelope, type Format } from '../src/formats/index.js';
import { fieldOf, NOT_PERSONAL, PERSONAL } from '../src/privacy/fields.js';
import { normaliseId, Privacy, type PrivacySettings } from '../src/privacy/policy.js';
import { reduceUserAgent, truncateIp } from '../src/privacy/values.js';
import { MAPPERS } from '../mappers/index.js';
import { imsEnvelopeErrors } from './ims-schema.js';
import { prng, SEND_TIME } from './helpers.js';
import { leaks } from './privacy-helpers.js';

import type { Raw } from './privacy-helpers.js';
const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const examples = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as Raw] as const);

const KEY = Buffer.from('0123456789abcdef0123456789abcdef-test-key');
const OTHER_KEY = Buffer.from('another key of at least thirty-two bytes!!');
const privacy = (settings: Partial<PrivacySettings> = {}) => new Privacy({ policy: 'pseudonymise', key: KEY, ...settings });
const POLICIES = { pseudonymise: privacy(), drop: privacy({ policy: 'drop' }) };
const map = (raw: unknown, format: Format, options: MapOptions = {}) => mapEvent(raw, { sendTime: SEND_TIME, format, ...options });

const actorId = (raw: Raw, format: Format, p: Privacy) => map(raw, format, { privacy: p }).data[0]!.actor as { id: string };

/** Each format, and caliper-1.2 with its options (a platform's edApp id, its own session). */
const FORMAT_CASES: [string, Format, MapOptions][] = [
  ...FORMATS.map((format): [string, Format, MapOptions] => [format, format, {}]),
  ['caliper-1.2 with CALIPER_SESSION=auto-attach and CALIPER_EDAPP_ID', 'caliper-1.2', { formatOptions: { session: 'auto-attach', edAppId: 'https://platform.example/apps/canvas' } }],
];

describe.each(Object.entries(POLICIES))('PRIVACY=%s', (policy, p) => {
  describe.each(FORMAT_CASES)('%s', (_label, format, options) => {
    it('maps every fixture of the 82 types: valid, and no personal value of the input in the output', () => {
      expect(new Set(examples.map(([, raw]) => raw.metadata.event_name)).size).toBe(MAPPERS.size);
      const problems: string[] = [];
      for (const [file, raw] of examples) {
        const envelope = map(raw, format, { ...options, privacy: p });
        // A login or logout keeps its own session (src/formats/caliper12.ts SESSION_TIMES_12).
        if (options.formatOptions?.session && raw.metadata.session_id && envelope.data[0]!.type !== 'SessionEvent') expect(envelope.data[0]!.session, file).toBe('urn:tag:auto-attach');
        const valid = validateEnvelope(envelope, format === 'instructure' ? {} : { format });
        if (!valid.ok) problems.push(`${file}: ${valid.error}`);
        if (format !== 'instructure') problems.push(...imsEnvelopeErrors(format, envelope).map((e) => `${file}: IMS ${e}`));
        problems.push(...leaks(raw, envelope).map((l) => `${file}: ${l}`));
        const ext = envelope.data[0]!.extensions as Record<string, Record<string, unknown>>;
        expect(ext['com.instructure.canvas']).toMatchObject({ privacy: policy, privacy_key_id: p.keyId });
      }
      expect(problems).toEqual([]);
    });
  });
});

it('the search finds the personal values when the policy is keep (so that it can fail)', () => {
  const found = examples.filter(([, raw]) => leaks(raw, map(raw, 'instructure')).length > 0);
  expect(found.length).toBeGreaterThan(examples.length * 0.9);
});

/** The first fixture whose output (keep, instructure) satisfies `test`. */
const fixtureWith = (test: (event: Record<string, unknown>) => boolean) => examples.find(([, raw]) => test(map(raw, 'instructure').data[0] as unknown as Record<string, unknown>))![1];

describe('pseudonyms', () => {
  it('one user has one pseudonym across event types, formats and policies', () => {
    const byUser = new Map<string, Set<string>>();
    for (const [, raw] of examples) {
      const userId = raw.metadata.user_id;
      if (typeof userId !== 'string') continue;
      for (const format of FORMATS) {
        for (const p of Object.values(POLICIES)) {
          const actor = actorId(raw, format, p);
          if (!actor.id.includes(':user:')) continue;
          byUser.set(userId, (byUser.get(userId) ?? new Set()).add(actor.id));
        }
      }
    }
    expect(byUser.size).toBeGreaterThan(5);
    for (const [userId, ids] of byUser) expect([userId, [...ids]]).toEqual([userId, [POLICIES.pseudonymise.userUrn(userId)]]);
  });

  it('joins still work: the membership, the member and the actor name the same pseudonym', () => {
    const raw = fixtureWith((event) => event.membership !== undefined);
    const event = map(raw, 'instructure', { privacy: POLICIES.pseudonymise }).data[0] as unknown as Record<string, { id: string; member?: { id: string } }>;
    const pseudonym = POLICIES.pseudonymise.pseudonym('user', raw.metadata.user_id as string);
    expect(event.actor!.id).toBe(`urn:instructure:canvas:user:${pseudonym}`);
    expect(event.membership!.member!.id).toBe(event.actor!.id);
    expect(event.membership!.id.endsWith(`:${pseudonym}`)).toBe(true);
  });

  it('a user Canvas writes as a global id in metadata and a local one in the body gets one pseudonym (the root account’s shard)', () => {
    const raw = structuredClone(fixtureWith((event) => Array.isArray((event.object as { creators?: unknown }).creators)));
    raw.metadata.root_account_id = '21070000000000001';
    raw.metadata.user_id = '21070000000023482';
    raw.body.user_id = '23482';
    for (const format of FORMATS) {
      const text = JSON.stringify(map(raw, format, { privacy: privacy() }));
      const pseudonym = privacy().pseudonym('user', '21070000000023482');
      expect(text).not.toMatch(/23482/);
      expect(text.split(pseudonym).length - 1, format).toBeGreaterThanOrEqual(3); // actor, its entity_id, the creator (or the commenter)
    }
  });

  it('two keys give two pseudonyms; a global id written either way gives one', () => {
    const raw = fixtureWith((event) => (event.actor as { type: string }).type === 'Person');
    expect(actorId(raw, 'instructure', privacy())).not.toEqual(actorId(raw, 'instructure', privacy({ key: OTHER_KEY })));
    expect(privacy().pseudonym('user', '2107~565')).toBe(privacy().pseudonym('user', '21070000000000565'));
    expect(privacy().pseudonym('user', '565')).not.toBe(privacy().pseudonym('sis', '565'));
    expect(privacy().pseudonym('user', '565')).toMatch(/^ps[0-9a-f]{32}$/);
    expect(privacy().keyId).not.toBe(privacy({ key: OTHER_KEY }).keyId);
    expect(privacy({ keyId: '2026-12' }).keyId).toBe('2026-12');
  });

  it('refuses a key under 32 bytes', () => {
    expect(() => privacy({ key: Buffer.alloc(31) })).toThrow(/31 bytes; at least 32/);
  });
});

describe('what pseudonymise keeps', () => {
  const raw = structuredClone(examples.find(([f]) => f.startsWith('asset_accessed'))![1]);
  raw.metadata.url = 'https://u:pw@oxana.instructure.com/courses/565/users/25999?include[]=email#x';
  raw.metadata.client_ip = '2001:db8:85a3:1234::8a2e:370:7334';
  raw.metadata.user_agent = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/73.0.3683.103 Safari/537.36';

  it('IP /48, the browser family, the URL without query and with the user pseudonymised (its shard from the root account)', () => {
    const ext = (map(raw, 'instructure', { privacy: privacy() }).data[0]!.extensions as Record<string, Record<string, unknown>>)['com.instructure.canvas']!;
    expect(ext.client_ip).toBe('2001:db8:85a3::');
    expect(ext.user_agent).toBe('Chrome 73');
    const shard = String(raw.metadata.root_account_id).slice(0, 4);
    expect(ext.request_url).toBe(`https://oxana.instructure.com/courses/565/users/${privacy().pseudonym('user', `${shard}~25999`)}`);
    expect(ext).not.toHaveProperty('request_id');
    const dropped = (map(raw, 'instructure', { privacy: privacy({ ip: 'drop' }) }).data[0]!.extensions as Record<string, Record<string, unknown>>)['com.instructure.canvas']!;
    expect(dropped.client_ip).toBeUndefined();
    expect(dropped.user_agent).toBe('Chrome 73');
  });

  it('free text only with keepText', () => {
    const entry = examples.find(([f]) => f.startsWith('discussion_entry_created'))![1];
    expect(map(entry, 'instructure', { privacy: privacy() }).data[0]!.object).not.toHaveProperty('body');
    expect((map(entry, 'instructure', { privacy: privacy({ keepText: true }) }).data[0]!.object as unknown as { body: string }).body).toBe(entry.body.text);
    expect(map(entry, 'instructure', { privacy: privacy({ keepText: true, policy: 'drop' }) }).data[0]!.object).not.toHaveProperty('body');
  });

  it('the value helpers', () => {
    expect(truncateIp('93.184.216.34')).toBe('93.184.216.0');
    expect(truncateIp('::ffff:93.184.216.34')).toBe('93.184.216.0');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(truncateIp('93.184.216.34, 10.1.2.3')).toBe('93.184.216.0, 10.1.2.0');
    expect(truncateIp('not an ip')).toBeUndefined();
    expect(reduceUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91')).toBe('Edge 120');
    expect(reduceUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1')).toBe('Safari 17');
    expect(reduceUserAgent('Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0')).toBe('Firefox 121');
    expect(reduceUserAgent('curl/8.0')).toBe('Other');
  });

  it('truncates exactly the IPv4 addresses net.isIPv4 takes', () => {
    const random = prng(20);
    const pick = (alphabet: string, max: number) => Array.from({ length: Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const ipLike = ['1.2.3.4', '255.255.255.255', '0.0.0.0', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2.3.4.5', '1.2.3.04', '', '1.2.3.a'];
    for (let i = 0; i < 20_000; i++) ipLike.push(pick('0123456789.', 16), [0, 0, 0, 0].map(() => pick('0123456789', 4)).join('.'));
    for (const ip of ipLike) expect(truncateIp(ip), ip).toBe(net.isIPv4(ip) ? `${ip.slice(0, ip.lastIndexOf('.'))}.0` : undefined);
  });
});

describe('keep and pass-through', () => {
  it('keep is byte for byte the output without a policy (no privacy object at all)', () => {
    for (const [, raw] of examples.slice(0, 20)) {
      for (const format of FORMATS) expect(serializeEnvelope(map(raw, format, { privacy: undefined }))).toBe(serializeEnvelope(map(raw, format)));
    }
  });

  it('an envelope already in Caliper is refused in pseudonymise and drop, with the reason', () => {
    const envelope = map(examples[0]![1], 'instructure');
    expect(mapInput(envelope, {}).envelope).toBe(envelope);
    for (const p of Object.values(POLICIES)) {
      const refused = (() => {
        try {
          mapInput(envelope, { privacy: p });
        } catch (err) {
          return err as MappingError;
        }
      })();
      expect(refused?.code).toBe('INVALID_CALIPER');
      expect(refused?.message).toContain(`PRIVACY=${p.policy} takes raw Canvas events only`);
    }
  });
});

describe('the table', () => {
  const docs = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'canvas-docs', 'fields.json'), 'utf8')) as Record<string, string[]>;

  it('knows every field Canvas documents for the 82 types and the metadata: personal (with its kind) or not personal', () => {
    expect(Object.keys(docs).filter((t) => t !== 'metadata').length).toBe(82);
    const unknown = Object.entries(docs).flatMap(([type, fields]) => fields.filter((f) => fieldOf(type === 'metadata' ? undefined : type, f) === undefined).map((f) => `${type}.${f}`));
    expect(unknown).toEqual([]);
  });

  it('lists no field both as personal and not personal (PERSONAL_BY_TYPE overrides a field for one type)', () => {
    const both = Object.keys(PERSONAL).filter((f) => NOT_PERSONAL.has(f));
    expect(both).toEqual([]);
  });
});
