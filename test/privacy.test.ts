// The privacy policy (src/privacy), applied to the raw Canvas event before it is mapped:
// - the audit: events crafted from every documented example (test/fixtures/events, samples/) with each
//   personal value replaced by a unique marker (in URLs, nested objects, unknown fields,
//   integration_data, a User context's id, file names too), mapped in every format under pseudonymise
//   and drop: no marker in the output, searched also percent-decoded;
// - joins: every user of the fixtures has one pseudonym in every field and id form, also after a shard
//   migration; two users never share one;
// - event ids keyed under a policy; output valid by our validator and IMS's JSON Schemas; keep
//   unchanged; the table covers every field Canvas documents.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { deterministicEventId, mapEvent, mapInput, mapJson, orderFree, privateEventId, type MapOptions } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { FORMATS, serializeEnvelope, type Format } from '../src/formats/index.js';
import { BODY, bodyFieldsOf, fieldOf, METADATA_FIELDS, NOT_PERSONAL, type Field } from '../src/privacy/fields.js';
import { anchorOf, Privacy, splitId, type PrivacySettings } from '../src/privacy/policy.js';
import { reduceUserAgent, truncateIp } from '../src/privacy/values.js';
import { idString } from '../mappers/values.js';
import { MAPPERS } from '../mappers/index.js';
import { imsEnvelopeErrors } from './ims-schema.js';
import { prng, SEND_TIME } from './helpers.js';
import { get, globalForm, leaks, markers, personalTexts, set, URL_FIELDS, userIdFields, type Raw } from './privacy-helpers.js';

const root = path.join(import.meta.dirname, '..');
const dir = path.join(root, 'test', 'fixtures', 'events');
const examples = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as Raw] as const);
/** Every documented example: the fixtures and the samples (raw events, one per file or one per line). */
const documented: (readonly [string, Raw])[] = [
  ...examples,
  ...fs
    .readdirSync(path.join(root, 'samples'))
    .sort()
    .flatMap((f) => {
      const text = fs.readFileSync(path.join(root, 'samples', f), 'utf8');
      const items = f.endsWith('.ndjson') ? text.split('\n').filter((l) => l.trim()) : f.endsWith('.json') ? [text] : [];
      return items.map((t, i) => [`samples/${f}${items.length > 1 ? `:${i + 1}` : ''}`, JSON.parse(t) as Raw] as const);
    }),
];

const KEY = Buffer.from('0123456789abcdef0123456789abcdef-test-key');
const OTHER_KEY = Buffer.from('another key of at least thirty-two bytes!!');
const privacy = (settings: Partial<PrivacySettings> = {}) => new Privacy({ policy: 'pseudonymise', key: KEY, ...settings });
const POLICIES = { pseudonymise: privacy(), drop: privacy({ policy: 'drop' }) };
const map = (raw: unknown, format: Format, options: MapOptions = {}) => mapEvent(raw, { sendTime: SEND_TIME, format, ...options });

/** Each format, and caliper-1.2 with its options (a platform's edApp id, its own session). */
const FORMAT_CASES: [string, Format, MapOptions][] = [
  ...FORMATS.map((format): [string, Format, MapOptions] => [format, format, {}]),
  ['caliper-1.2 with CALIPER_SESSION=auto-attach and CALIPER_EDAPP_ID', 'caliper-1.2', { formatOptions: { session: 'auto-attach', edAppId: 'https://platform.example/apps/canvas' } }],
];

describe.each(Object.entries(POLICIES))('PRIVACY=%s', (policy, p) => {
  describe.each(FORMAT_CASES)('%s', (_label, format, options) => {
    it('maps every documented example: valid (ours and IMS’s schema), marked, and no personal value of the input in the output', () => {
      expect(new Set(examples.map(([, raw]) => raw.metadata.event_name)).size).toBe(MAPPERS.size);
      const problems: string[] = [];
      for (const [file, raw] of documented) {
        const envelope = map(raw, format, { ...options, privacy: p });
        // A login or logout keeps its own session (src/formats/caliper12.ts SESSION_TIMES_12).
        if (options.formatOptions?.session && raw.metadata.session_id && envelope.data[0]!.type !== 'SessionEvent') expect(envelope.data[0]!.session, file).toBe('urn:tag:auto-attach');
        const valid = validateEnvelope(envelope, format === 'instructure' ? {} : { format });
        if (!valid.ok) problems.push(`${file}: ${valid.error}`);
        // IMS's schemas (slow) on the fixtures, which hold every type; the samples repeat them.
        if (format !== 'instructure' && !file.startsWith('samples/')) problems.push(...imsEnvelopeErrors(format, envelope).map((e) => `${file}: IMS ${e}`));
        problems.push(...leaks(raw, envelope).map((l) => `${file}: ${l}`));
        const ext = envelope.data[0]!.extensions as Record<string, Record<string, unknown>>;
        expect(ext['com.instructure.canvas'], file).toMatchObject({ privacy: policy, privacy_key_id: p.keyId });
      }
      expect(problems).toEqual([]);
    });
  });
});

it('the search finds the personal values when the policy is keep (so that it can fail)', () => {
  const found = examples.filter(([, raw]) => leaks(raw, map(raw, 'instructure')).length > 0);
  expect(found.length).toBeGreaterThan(examples.length * 0.9);
});

// ---------------------------------------------------------------------------------------------
// The audit

type Markers = ReturnType<typeof markers>;

/** A URL on the event's host with markers where pseudonymise must not leave them: userinfo, a user's id, query names and values, the fragment. */
function markedUrl(m: Markers, host: string, what: string): string {
  const user = m.userId(`${what}: a user id in the path`);
  const about = m.userId(`${what}: a user id after about`);
  const param = m.userId(`${what}: a user id in the query`);
  return `https://${m.text(`${what}: userinfo`)}:${m.text(`${what}: password`)}@${host}/courses/565/users/${user.local}/about/${about.tilde}?${m.text(`${what}: query name`)}=${m.text(`${what}: query value`)}&user_id=${param.local}#${m.text(`${what}: fragment`)}`;
}

/**
 * The event with every personal value replaced by a marker: user ids (one marker user per user, in
 * the field's own form), personal texts, URLs; plus an unknown field in metadata and body, and
 * integration_data holding a login, an e-mail and a user id.
 */
function craft(raw: Raw, m: Markers, label: string): Raw {
  const out = structuredClone(raw);
  const host = typeof raw.metadata.hostname === 'string' ? raw.metadata.hostname : 'oxana.instructure.com';
  const users = new Map<string, ReturnType<Markers['userId']>>();
  for (const f of userIdFields(raw)) {
    const v = String(get(raw, f));
    const u = users.get(globalForm(v)) ?? m.userId(`${label} ${f}`);
    users.set(globalForm(v), u);
    set(out, f, v.includes('~') ? u.tilde : v.length >= 14 ? u.global : u.local);
  }
  for (const f of personalTexts(raw)) if (get(raw, f) !== null && get(raw, f) !== undefined) set(out, f, m.text(`${label} ${f}`));
  for (const f of URL_FIELDS) if (typeof get(raw, f) === 'string') set(out, f, markedUrl(m, host, `${label} ${f}`));
  out.metadata.user_login = m.text(`${label} metadata.user_login (added)`);
  out.metadata.user_sis_id = m.text(`${label} metadata.user_sis_id (added)`);
  out.metadata.unknown_field = m.text(`${label} metadata.unknown_field`);
  out.body.unknown_field = m.text(`${label} body.unknown_field`);
  out.body.unknown_object = { id: m.userId(`${label} body.unknown_object.id`).global, note: m.text(`${label} body.unknown_object.note`) };
  out.body.integration_data = { login: m.text(`${label} integration_data.login`), email: `${m.text(`${label} integration_data.email`)}@example.edu`, nested: { user_id: m.userId(`${label} integration_data.nested.user_id`).global } };
  return out;
}

/** Variants where an id is a user's by its type: a file in a user's own folder, a user's page as the request's context, a profile viewed. */
function variants(raw: Raw, m: Markers, label: string): [string, Raw][] {
  const out: [string, Raw][] = [];
  if (typeof raw.body.context_type === 'string' && raw.body.context_id != null) {
    const v = structuredClone(raw);
    v.body.context_type = 'User';
    v.body.context_id = m.userId(`${label} body.context_id of a User context`).global;
    out.push([`${label} (body context User)`, v]);
  }
  if (raw.metadata.context_id != null) {
    const v = structuredClone(raw);
    v.metadata.context_type = 'User';
    v.metadata.context_id = m.userId(`${label} metadata.context_id of a User context`).local;
    out.push([`${label} (metadata context User)`, v]);
  }
  if (raw.metadata.event_name === 'asset_accessed') {
    for (const type of ['user', 'attachment', 'folder']) {
      const v = structuredClone(raw);
      v.body.asset_type = type;
      v.body.asset_name = m.text(`${label} asset_name of a ${type}`);
      if (type === 'user') v.body.asset_id = m.userId(`${label} asset_id of a user`).global;
      else Object.assign(v.body, { asset_id: '21070000000000999', display_name: m.text(`${label} display_name of a ${type}`), filename: m.text(`${label} filename of a ${type}`) });
      out.push([`${label} (asset ${type})`, v]);
    }
  }
  return out;
}

describe('the audit: crafted events with a marker for each personal value', () => {
  const m = markers();
  const crafted = documented.flatMap(([label, raw]) => [[label, craft(raw, m, label)] as [string, Raw], ...variants(craft(raw, m, label), m, label)]);

  it.each(Object.entries(POLICIES))('PRIVACY=%s: no marker in any format, searched as published, lower-cased and percent-decoded', (_policy, p) => {
    expect(crafted.length).toBeGreaterThan(documented.length);
    const problems: string[] = [];
    for (const [label, raw] of crafted) {
      for (const [formatLabel, format, options] of FORMAT_CASES) {
        let envelope;
        try {
          // As the worker and `map` do: a value just parsed, given away (the pass writes into it).
          envelope = mapInput(JSON.parse(JSON.stringify(raw)), { sendTime: SEND_TIME, format, ...options, privacy: p }, true).envelope;
        } catch (err) {
          problems.push(`${label} ${formatLabel}: ${(err as Error).message}`);
          continue;
        }
        problems.push(...m.found(envelope).map((f) => `${formatLabel}: ${f}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('the markers get out under keep (so that the search can fail): user ids, texts, URLs', () => {
    const found = new Set(crafted.flatMap(([, raw]) => m.found(map(raw, 'instructure'))));
    expect(found.size).toBeGreaterThan(m.size / 3);
    for (const what of ['metadata.user_id', 'metadata.user_login', 'body.body', 'a user id in the path']) expect([...found].some((f) => f.includes(what)), what).toBe(true);
  });

  it('PRIVACY_KEEP_TEXT=1 keeps free text and file names (and nothing else of the above)', () => {
    const entry = crafted.find(([label]) => label.startsWith('attachment_created'))![1];
    const found = m.found(map(entry, 'instructure', { privacy: privacy({ keepText: true }) }));
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((f) => !/ body\.(display_name|filename|body|text|message|description)/.test(f))).toEqual([]);
  });
});

// Canvas routes whose personal segments only the allowlist reducer (src/privacy/url.ts) removes: a path
// reducer that knew only `users/<id>` let every one of these through.
describe('URL routes (the allowlist reducer)', () => {
  it('no marker in any Canvas route form under pseudonymise', () => {
    const m = markers();
    const u = () => m.userId('a user id in a route');
    const t = (what: string) => m.text(what);
    const urls = [
      `https://oxana.instructure.com/api/v1/courses/565/assignments/355/submissions/${u().local}?include%5B%5D=visibility`,
      `https://oxana.instructure.com/courses/565/gradebook/speed_grader?assignment_id=355&student_id=${u().local}`,
      `https://oxana.instructure.com/courses/565/grades/${u().local}`,
      `https://oxana.instructure.com/api/v1/users/${u().local}.json`,
      `https://oxana.instructure.com/Users/${u().local}`,
      `https://oxana.instructure.com/users/${u().local};jsessionid=${t('matrix param')}`,
      `https://oxana.instructure.com/users/%3${u().local.slice(0, 1)}${u().local.slice(1)}`,
      `https://oxana.instructure.com/courses/565/students/${u().local}`,
      `https://oxana.instructure.com/api/v1/users/sis_login_id:${t('sis login')}`,
      `https://oxana.instructure.com/api/v1/users/sis_user_id:${t('sis user id')}`,
      `https://oxana.instructure.com/feeds/enrollment_${t('feed token')}.atom`,
      `https://oxana.instructure.com/courses/565/files/folder/${t('folder name')}`,
      `https://oxana.instructure.com/eportfolios/12/${t('eportfolio slug')}`,
      `https://social.example.com/profile/${t('external profile')}`,
      `mailto:${t('mail address')}@example.edu`,
      `//${t('network-path userinfo')}@oxana.instructure.com/courses/565`,
    ];
    const raw = structuredClone(examples.find(([f]) => f.startsWith('asset_accessed'))![1]);
    const found = urls.flatMap((url) => m.found(map({ ...raw, metadata: { ...raw.metadata, url, referrer: url } }, 'instructure', { privacy: POLICIES.pseudonymise })));
    expect(found).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Joins

/** Every pseudonym in an output. */
const pseudonymsIn = (envelope: unknown): Set<string> => new Set(JSON.stringify(envelope).match(/ps[0-9a-f]{32}/g) ?? []);

/**
 * A user's identity as Canvas defines it: the shard and the local id (a local id in the event's root
 * account's shard), within one root account (the examples come from several Canvas installations, so
 * equal ids under two root accounts are not taken to be one user: docs/privacy.md, "Keying of user ids").
 */
function identity(raw: Raw, id: string): string {
  const split = splitId(id)!;
  const shard = split.shard ?? anchorOf(raw.metadata as never).shard;
  return `${shard ?? 'none'}:${split.local}@${String(raw.metadata.root_account_uuid ?? raw.metadata.root_account_id ?? raw.metadata.context_account_id ?? 'none')}`;
}

/** The event with every global id (`21070000000000001`, `2107~1`, inside strings too) moved from its shard to shard + 5000, as a shard migration does. */
function reshard(raw: Raw): Raw {
  const move = (text: string) =>
    text.replace(/(?<![\w~])(\d{1,10})~(\d+)(?![\w~])/g, (_m, s: string, l: string) => `${BigInt(s) + 5000n}~${l}`).replace(/(?<![\w~])\d{14,20}(?![\w~])/g, (g) => String(BigInt(g) + 5000n * 10_000_000_000_000n));
  const walk = (v: unknown): unknown => (typeof v === 'string' ? move(v) : Array.isArray(v) ? v.map(walk) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v);
  return walk(raw) as Raw;
}

/** The event with every occurrence of one user (every user id field and URL id of that identity, in its own form) replaced by another user. */
function withoutUser(raw: Raw, who: string, fresh: string): Raw {
  const out = structuredClone(raw);
  for (const f of userIdFields(raw)) if (identity(raw, String(get(raw, f))) === who) set(out, f, fresh);
  for (const f of URL_FIELDS) {
    const url = get(raw, f);
    if (typeof url === 'string') set(out, f, url.replace(/(?<![\w~])\d+(?:~\d+)?(?![\w~])/g, (id) => (identity(raw, id) === who ? fresh : id)));
  }
  return out;
}

/**
 * For each user of the event (by identity) that the output names: its pseudonym, found as the one
 * pseudonym that goes when the user is replaced by another (a user the mapper does not publish, such
 * as enrollment_*'s associated_user_id in the default format, has none).
 */
function pseudonymsOfUsers(raw: Raw, p: Privacy): Map<string, string> {
  const all = pseudonymsIn(map(raw, 'instructure', { privacy: p }));
  const out = new Map<string, string>();
  const users = new Set(userIdFields(raw).map((f) => identity(raw, String(get(raw, f)))));
  for (const who of users) {
    const fresh = String(5_550_000_000 + out.size);
    const left = pseudonymsIn(map(withoutUser(raw, who, fresh), 'instructure', { privacy: p }));
    const gone = [...all].filter((x) => !left.has(x));
    expect(gone.length, `${String(raw.metadata.event_name)}: the pseudonyms of user ${who}: ${gone.join(', ')}`).toBeLessThanOrEqual(1);
    if (gone.length === 1) out.set(who, gone[0]!);
  }
  return out;
}

describe('joins', () => {
  it('every user of the documented examples has one pseudonym in every field, id form and event; two users never share one', () => {
    const byUser = new Map<string, Map<string, string[]>>();
    for (const [file, raw] of documented) {
      for (const [who, pseudonym] of pseudonymsOfUsers(raw, POLICIES.pseudonymise)) {
        const seen = byUser.get(who) ?? new Map<string, string[]>();
        byUser.set(who, seen.set(pseudonym, [...(seen.get(pseudonym) ?? []), file]));
      }
    }
    expect(byUser.size).toBeGreaterThan(10);
    for (const [who, pseudonyms] of byUser) expect([who, pseudonyms.size, pseudonyms.size > 1 ? [...pseudonyms.values()] : []]).toEqual([who, 1, []]);
    const all = [...byUser.values()].map((s) => [...s.keys()][0]);
    expect(new Set(all).size).toBe(all.length);
  });

  it('after a shard migration (every global id on another shard, the root account’s uuid the same) each user keeps its pseudonym', () => {
    let compared = 0;
    for (const [file, raw] of documented) {
      // An event without the root account's uuid is keyed on shards, which a migration changes (docs/privacy.md).
      if (typeof raw.metadata.root_account_uuid !== 'string' || userIdFields(raw).length === 0) continue;
      // A user of another shard than the root account's is keyed on that shard, which the migration changes.
      const shard = anchorOf(raw.metadata as never).shard;
      const home = (map: Map<string, string>, s: string | undefined) => [...map].filter(([who]) => who.startsWith(`${s}:`)).map(([who, ps]) => [who.slice(who.indexOf(':')), ps]);
      const before = home(pseudonymsOfUsers(raw, POLICIES.pseudonymise), shard);
      const moved = reshard(raw);
      expect(moved.metadata.root_account_id, file).not.toEqual(raw.metadata.root_account_id);
      expect(moved.metadata.root_account_uuid, file).toBe(raw.metadata.root_account_uuid);
      const after = home(pseudonymsOfUsers(moved, POLICIES.pseudonymise), String(BigInt(shard!) + 5000n));
      expect(after, file).toEqual(before);
      compared += before.length;
    }
    expect(compared).toBeGreaterThan(50);
  });

  it('one user as a global id, a shard~id and a local id (and as a number) has one pseudonym; users of other shards or other root accounts do not share it', () => {
    const p = POLICIES.pseudonymise;
    const home = { home: 'account:U1', shard: '2107' };
    const one = p.userPseudonym('21070000000023482', home);
    for (const form of ['2107~23482', '23482', '021070000000023482', '2107~0023482']) expect(p.userPseudonym(form, home), form).toBe(one);
    // After the move to shard 7000 (same root account uuid): the same pseudonym.
    expect(p.userPseudonym('70000000000023482', { home: 'account:U1', shard: '7000' })).toBe(one);
    // The same local id on another shard, in another root account, or keyed on a shard: another user.
    expect(p.userPseudonym('31000000000023482', home)).not.toBe(one);
    expect(p.userPseudonym('23482', { home: 'account:U2', shard: '2107' })).not.toBe(one);
    expect(p.userPseudonym('23482', { home: 'shard:2107', shard: '2107' })).not.toBe(one);
    expect(p.userPseudonym('23482', { home: 'none' })).not.toBe(one);
    // A foreign-shard user is the same user in any root account's event.
    expect(p.userPseudonym('31000000000023482', home)).toBe(p.userPseudonym('3100~23482', { home: 'account:U2', shard: '2107' }));
  });

  it('keys a user id by what the event says of its account: the root account’s uuid, else its shard (root_account_id, else context_account_id), else none', () => {
    expect(anchorOf({ root_account_uuid: 'U1', root_account_id: '21070000000000001' })).toEqual({ home: 'account:U1', shard: '2107' });
    expect(anchorOf({ root_account_id: '2107~1' })).toEqual({ home: 'shard:2107', shard: '2107' });
    expect(anchorOf({ context_account_id: '21070000000000079' })).toEqual({ home: 'shard:2107', shard: '2107' });
    expect(anchorOf({ root_account_uuid: 'U1' })).toEqual({ home: 'account:U1', shard: undefined });
    expect(anchorOf({ root_account_id: '1' })).toEqual({ home: 'none', shard: undefined });
    const p = POLICIES.pseudonymise;
    // A uuid but no shard: a global id is keyed on its own shard (it cannot be told to be the root account's).
    expect(p.userPseudonym('21070000000000048', { home: 'account:U1' })).toBe(p.userPseudonym('21070000000000048', { home: 'none' }));
    // With neither, a local id is keyed as none: never equal to an anchored pseudonym.
    expect(p.userPseudonym('48', { home: 'none' })).not.toBe(p.userPseudonym('48', { home: 'shard:2107', shard: '2107' }));
  });

  it('grade_change (no root account in metadata): the student in the URL, the body (global) and as assignee is one pseudonym, by context_account_id’s shard', () => {
    const raw = documented.find(([f]) => f === 'samples/grade_change.json')![1];
    expect(raw.metadata.root_account_id).toBeUndefined();
    const users = pseudonymsOfUsers(raw, POLICIES.pseudonymise);
    expect([...users.keys()].sort()).toEqual(['2107:48@21070000000000079', '2107:987@21070000000000079']);
  });

  it('enrollment_* and user_account_association_created: the user they name is the same pseudonym as everywhere (its URN in the extensions)', () => {
    for (const name of ['enrollment_created', 'user_account_association_created']) {
      const raw = examples.find(([f]) => f.startsWith(name))![1];
      const p = POLICIES.pseudonymise;
      const user = p.userPseudonym(String(raw.body.user_id), anchorOf(raw.metadata as never));
      for (const format of FORMATS) expect(JSON.stringify(map(raw, format, { privacy: p })), `${name} ${format}`).toContain(`urn:instructure:canvas:user:${user}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Pseudonyms, event ids, what each policy keeps

describe('pseudonyms', () => {
  it('domains are separate: equal texts as a person’s SIS id, a course’s SIS id, an LTI user id, a uuid, a session give five pseudonyms', () => {
    const p = POLICIES.pseudonymise;
    const out = ['person_sis', 'context_sis', 'lti_user', 'user_uuid', 'session'].map((d) => p.pseudonym(d, '565'));
    expect(new Set([...out, p.userPseudonym('565', { home: 'none' })]).size).toBe(6);
    const raw = structuredClone(examples.find(([f]) => f.startsWith('course_section_created'))![1]);
    raw.metadata.user_sis_id = 'SAME-1';
    raw.body.sis_source_id = 'SAME-1';
    const text = JSON.stringify(map(raw, 'instructure', { privacy: p }));
    expect(text).toContain(p.pseudonym('person_sis', 'SAME-1'));
    expect(text).toContain(p.pseudonym('context_sis', 'SAME-1'));
  });

  it('a pseudonym is ps + 32 hex digits, taken by the mappers’ id builder; two keys give two', () => {
    const p = POLICIES.pseudonymise;
    const one = p.userPseudonym('565', { home: 'none' });
    expect(one).toMatch(/^ps[0-9a-f]{32}$/);
    expect(idString(one, 'x')).toBe(one);
    expect(() => idString('ps0123', 'x')).toThrow();
    expect(() => idString(`PS${one.slice(2)}`, 'x')).toThrow();
    expect(privacy({ key: OTHER_KEY }).userPseudonym('565', { home: 'none' })).not.toBe(one);
    expect(privacy().keyId).not.toBe(privacy({ key: OTHER_KEY }).keyId);
    expect(privacy({ keyId: '2026-12' }).keyId).toBe('2026-12');
  });

  it('the raw schemas still check the id Canvas sent: a pseudonym-shaped user_id in the input is refused', () => {
    const raw = structuredClone(examples[0]![1]);
    raw.metadata.user_id = 'ps0123456789abcdef0123456789abcdef';
    expect(() => map(raw, 'instructure', { privacy: POLICIES.pseudonymise })).toThrow(/metadata\.user_id/);
  });

  it('refuses a key under 32 bytes', () => {
    expect(() => privacy({ key: Buffer.alloc(31) })).toThrow(/31 bytes; at least 32/);
  });
});

describe('event ids', () => {
  const raw = examples.find(([f]) => f.startsWith('discussion_entry_submitted'))?.[1] ?? examples[0]![1];
  const id = (options: MapOptions) => map(raw, 'instructure', options).data[0]!.id;

  it('keep vs pseudonymise vs drop differ; same input and key, same id (whatever the key order); another key, another id; still the v4 layout', () => {
    const keep = id({});
    const pseudonymised = id({ privacy: privacy() });
    expect(keep).toBe(deterministicEventId(raw));
    expect(pseudonymised).not.toBe(keep);
    expect(id({ privacy: privacy({ policy: 'drop' }) })).not.toBe(pseudonymised);
    expect(id({ privacy: privacy() })).toBe(pseudonymised);
    const reordered = { body: Object.fromEntries(Object.entries(raw.body).reverse()), metadata: Object.fromEntries(Object.entries(raw.metadata).reverse()) };
    expect(map(reordered, 'instructure', { privacy: privacy() }).data[0]!.id).toBe(pseudonymised);
    expect(id({ privacy: privacy({ key: OTHER_KEY }) })).not.toBe(pseudonymised);
    expect(pseudonymised).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Not the unkeyed hash of the event as the policy made it either: without the key, nothing links it.
    expect(pseudonymised).not.toBe(deterministicEventId(POLICIES.pseudonymise.event(raw as never)));
    // The same in every format.
    for (const format of FORMATS) expect(map(raw, format, { privacy: privacy() }).data[0]!.id).toBe(pseudonymised);
  });

  it('a change the policy removes (the IP, the login) leaves the id as it is: redeliveries collapse on what is published', () => {
    const changed = structuredClone(raw);
    changed.metadata.user_login = 'someone.else@example.edu';
    expect(map(changed, 'instructure', { privacy: privacy() }).data[0]!.id).toBe(id({ privacy: privacy() }));
    expect(map(changed, 'instructure').data[0]!.id).not.toBe(id({}));
  });
});

describe('what each policy keeps', () => {
  const raw = structuredClone(examples.find(([f]) => f.startsWith('asset_accessed'))![1]);
  raw.metadata.url = 'https://u:pw@oxana.instructure.com/courses/565/users/25999?include[]=email#x';
  raw.metadata.client_ip = '2001:db8:85a3:1234::8a2e:370:7334';
  raw.metadata.user_agent = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/73.0.3683.103 Safari/537.36';
  const canvasExt = (options: MapOptions) => (map(raw, 'instructure', options).data[0]!.extensions as Record<string, Record<string, unknown>>)['com.instructure.canvas']!;

  it('pseudonymise: IP /48, the browser family, the URL reduced with the user pseudonymised (a local id keyed like its global form)', () => {
    const ext = canvasExt({ privacy: privacy() });
    expect(ext.client_ip).toBe('2001:db8:85a3::');
    expect(ext.user_agent).toBe('Chrome 73');
    const anchor = anchorOf(raw.metadata as never);
    expect(ext.request_url).toContain(privacy().userPseudonym(`${anchor.shard}~25999`, anchor));
    // userinfo and fragment go; `include[]=email` is an allowlisted parameter of Canvas's API (what to include), kept.
    expect(ext.request_url).not.toMatch(/25999|u:|pw|#x/);
    expect(ext.request_url).toMatch(/\?include\[\]=email$/);
    expect(ext).not.toHaveProperty('request_id');
    const dropped = canvasExt({ privacy: privacy({ ip: 'drop' }) });
    expect(dropped.client_ip).toBeUndefined();
    expect(dropped.user_agent).toBe('Chrome 73');
  });

  it('drop: no IP, browser, URL, referrer, SIS id or session', () => {
    const out = map(raw, 'instructure', { privacy: POLICIES.drop }).data[0]!;
    const ext = (out.extensions as Record<string, Record<string, unknown>>)['com.instructure.canvas']!;
    expect(Object.keys(ext).filter((k) => ['client_ip', 'user_agent', 'request_url', 'referrer', 'request_id'].includes(k))).toEqual([]);
    expect(out.session).toBeUndefined();
    expect(out.referrer).toBeUndefined();
    expect(JSON.stringify(out.actor)).not.toContain('user_sis_id');
  });

  it('free text only with keepText, never under drop', () => {
    const entry = examples.find(([f]) => f.startsWith('discussion_entry_created'))![1];
    expect(map(entry, 'instructure', { privacy: privacy() }).data[0]!.object).not.toHaveProperty('body');
    expect((map(entry, 'instructure', { privacy: privacy({ keepText: true }) }).data[0]!.object as unknown as { body: string }).body).toBe(entry.body.text);
    expect(map(entry, 'instructure', { privacy: privacy({ keepText: true, policy: 'drop' }) }).data[0]!.object).not.toHaveProperty('body');
  });

  it('names of things staff create are kept (an outcome’s display_name, a course’s, an assignment’s title); a file’s names are not', () => {
    const outcome = examples.find(([f]) => f.startsWith('learning_outcome_created'))![1];
    expect(typeof outcome.body.display_name).toBe('string');
    for (const p of Object.values(POLICIES)) expect(JSON.stringify(map(outcome, 'instructure', { privacy: p }))).toContain(JSON.stringify(outcome.body.display_name));
    const course = examples.find(([f]) => f.startsWith('course_created'))![1];
    expect(JSON.stringify(map(course, 'instructure', { privacy: POLICIES.drop }))).toContain(JSON.stringify(course.body.name));
    const file = examples.find(([f]) => f.startsWith('attachment_created'))![1];
    const text = JSON.stringify(map(file, 'instructure', { privacy: POLICIES.pseudonymise }));
    for (const f of ['display_name', 'filename']) expect(text).not.toContain(JSON.stringify(file.body[f]));
  });

  it('Canvas’s user 0 (no one: a visitor not logged in) stays 0, so the actor and its membership are keep’s', () => {
    const raw = examples.find(([f]) => f.startsWith('asset_accessed'))![1];
    for (const id of ['0', 0, '000']) {
      const event = { ...raw, metadata: { ...raw.metadata, user_id: id } };
      for (const format of FORMATS) {
        const kept = map(event, format).data[0] as unknown as Record<string, { id: string }>;
        for (const p of Object.values(POLICIES)) {
          const policed = map(event, format, { privacy: p }).data[0] as unknown as Record<string, { id: string }>;
          expect(policed.actor!.id).toBe(kept.actor!.id);
          expect(policed.membership?.id === undefined).toBe(kept.membership?.id === undefined);
        }
      }
    }
  });

  it('a user’s own folder’s context id (context_type User) is a user id: its pseudonym, in every policy', () => {
    const file = structuredClone(examples.find(([f]) => f.startsWith('attachment_created'))![1]);
    file.body.context_type = 'User';
    file.body.context_id = '21070000000077777';
    for (const p of Object.values(POLICIES)) {
      const text = JSON.stringify(map(file, 'instructure', { privacy: p }));
      expect(text).not.toContain('77777');
      expect(text).toContain(p.userPseudonym('21070000000077777', anchorOf(file.metadata as never)));
    }
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

  it('a policy changes no event’s shape: its type, action, actor type, object type, group and membership are keep’s, in every format', () => {
    const shape = (e: Record<string, unknown>) => {
      const of = (x: unknown) => (x && typeof x === 'object' ? (x as { type?: unknown }).type : x);
      return [e.type, e.action, of(e.actor), of(e.object), of(e.group), of(e.membership), e.membership === undefined, e.group === undefined].join(' ');
    };
    for (const [file, raw] of documented) {
      for (const format of FORMATS) {
        const keep = shape(map(raw, format).data[0] as unknown as Record<string, unknown>);
        for (const p of Object.values(POLICIES)) expect(shape(map(raw, format, { privacy: p }).data[0] as unknown as Record<string, unknown>), `${file} ${format} ${p.policy}`).toBe(keep);
      }
    }
  });

  it('the input is not changed by the pass, unless the caller gives it away (owned); both give one envelope', () => {
    for (const [, raw] of examples) {
      const copy = structuredClone(raw);
      for (const p of Object.values(POLICIES)) {
        for (const [, format, options] of FORMAT_CASES) {
          const envelope = map(raw, format, { ...options, privacy: p });
          expect(raw).toEqual(copy);
          const given = structuredClone(raw);
          expect(mapEvent(given, { sendTime: SEND_TIME, format, ...options, privacy: p }, true)).toEqual(envelope);
          expect(mapJson(JSON.stringify(raw), { sendTime: SEND_TIME, format, ...options, privacy: p })).toEqual(envelope);
        }
      }
    }
    // Nested too deep: refused under keep; under a policy, a field it removes is never read, however
    // deep (the event maps), and one it keeps whole is refused — copied or in place, whatever the event id.
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = { deep };
    const base = examples.find(([f]) => f.startsWith('outcome_proficiency_created'))![1];
    const removed = { ...base, body: { ...base.body, unknown_field: deep } };
    const kept = { ...base, body: { ...base.body, outcome_proficiency_ratings: [{ description: 'deep', points: 1, deep }] } };
    for (const eventId of ['random', 'deterministic'] as const) {
      const outcome = (raw: unknown, privacy: Privacy | undefined, owned: boolean) => {
        try {
          return mapEvent(structuredClone(raw), { privacy, eventId, sendTime: SEND_TIME }, owned).data[0]!.type;
        } catch (err) {
          return (err as MappingError).code;
        }
      };
      for (const owned of [false, true]) {
        expect(outcome(removed, undefined, owned)).toBe('INVALID_RAW_EVENT');
        expect(outcome(kept, undefined, owned)).toBe('INVALID_RAW_EVENT');
        for (const p of Object.values(POLICIES)) {
          expect(outcome(removed, p, owned)).not.toBe('INVALID_RAW_EVENT');
          expect(outcome(kept, p, owned)).toBe('INVALID_RAW_EVENT');
        }
      }
    }
    // Given away, the event is the policy's: no personal value is left in the caller's object either.
    const given = structuredClone(examples.find(([f]) => f.startsWith('asset_accessed'))![1]);
    mapEvent(given, { privacy: POLICIES.drop }, true);
    expect(JSON.stringify(given)).not.toContain(String(examples.find(([f]) => f.startsWith('asset_accessed'))![1].metadata.user_login));
  });

  it('an envelope already in Caliper is refused in pseudonymise and drop, with the reason (SNS-wrapped too)', () => {
    const envelope = map(examples[0]![1], 'instructure');
    expect(mapInput(envelope, {}).envelope).toBe(envelope);
    for (const p of Object.values(POLICIES)) {
      for (const input of [envelope, { Type: 'Notification', Message: JSON.stringify(envelope) }]) {
        const refused = (() => {
          try {
            mapInput(input, { privacy: p });
          } catch (err) {
            return err as MappingError;
          }
        })();
        expect(refused?.code).toBe('INVALID_CALIPER');
        expect(refused?.message).toContain(`PRIVACY=${p.policy} takes raw Canvas events only`);
      }
    }
  });

  it('an SNS-wrapped raw event maps under a policy as the raw event does', () => {
    const raw = examples[0]![1];
    expect(mapInput({ Type: 'Notification', Message: JSON.stringify(raw) }, { privacy: POLICIES.pseudonymise, sendTime: SEND_TIME }).envelope).toEqual(map(raw, 'instructure', { privacy: POLICIES.pseudonymise }));
  });
});

describe('the pass itself (Privacy.event)', () => {
  const p = POLICIES.pseudonymise;
  const present = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

  it('an object or list under a kept field keeps only the fields the table names; a kept-deep one is kept whole; unknown fields go', () => {
    const raw = structuredClone(examples.find(([f]) => f.startsWith('course_completed'))![1]) as Raw;
    raw.body.position = { email: 'someone@example.edu', nested: { login: 'x' } };
    raw.body.attachment_ids = ['1', { login: 'x' }, ['2'], null, '3'];
    raw.body.outcome_proficiency_ratings = [{ description: 'Exceeds', points: 4 }];
    (raw.body.user as Record<string, unknown>).login_id = 'jdoe';
    (raw.body.course as Record<string, unknown>).teacher = { name: 'Ms Smith' };
    raw.metadata.unknown = 'x';
    const out = p.event(raw as never);
    expect(out.body.position).toBeUndefined();
    expect(out.body.attachment_ids).toEqual(['1', '3']);
    expect(out.body.outcome_proficiency_ratings).toEqual([{ description: 'Exceeds', points: 4 }]);
    expect(present(out.body.user as Record<string, unknown>)).toEqual({ id: p.userPseudonym(String((raw.body.user as { id: unknown }).id), anchorOf(raw.metadata as never)) });
    expect(present(out.body.course as Record<string, unknown>)).not.toHaveProperty('teacher');
    expect(present(out.metadata as never)).not.toHaveProperty('unknown');
    expect(JSON.stringify(out)).not.toMatch(/someone|jdoe|Ms Smith|"login"/);
  });

  it('a key named __proto__ stays data, never the prototype (copied or in place)', () => {
    for (const owned of [false, true]) {
      const raw = JSON.parse(JSON.stringify(examples[0]![1]).replace('"body":{', '"body":{"__proto__":{"polluted":true},').replace('"metadata":{', '"metadata":{"__proto__":{"polluted":true},')) as Raw;
      const out = p.event(raw as never, owned);
      expect(Object.getPrototypeOf(out.body)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(out.metadata)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(JSON.stringify(out)).not.toContain('polluted');
    }
  });

  it('in place (owned) and copied, the pass makes one event: equal field for field, equal event ids, for every crafted event under every policy', () => {
    const m = markers();
    const crafted = documented.flatMap(([label, raw]) => [craft(raw, m, label), ...variants(craft(raw, m, label), m, label).map(([, v]) => v)]);
    for (const raw of crafted) {
      // Beside metadata and body: no field of Canvas's, left out by both.
      const input = JSON.parse(JSON.stringify({ ...raw, extra: m.text('a top-level extra field') }).replace('"body":{', '"body":{"__proto__":{"n":1},'));
      for (const q of [...Object.values(POLICIES), privacy({ keepText: true, ip: 'drop' })]) {
        const before = JSON.stringify(input);
        const copied = q.event(input);
        expect(JSON.stringify(input)).toBe(before);
        const given = JSON.parse(before);
        const inPlace = q.event(given, true);
        expect(inPlace).toBe(given);
        expect(JSON.stringify(orderFree(inPlace))).toBe(JSON.stringify(orderFree(copied)));
        expect(privateEventId(q, inPlace)).toBe(privateEventId(q, copied));
        expect(m.found(inPlace)).toEqual(m.found(copied));
      }
    }
  });

  it('a user id that is a number is pseudonymised like its text; an id of a thing stays as Canvas sent it', () => {
    const raw = structuredClone(examples.find(([f]) => f.startsWith('submission_created'))![1]) as Raw;
    const id = String(raw.body.user_id);
    const anchor = anchorOf(raw.metadata as never);
    raw.body.user_id = Number(id);
    const out = p.event(raw as never);
    expect(out.body.user_id).toBe(p.userPseudonym(id, anchor));
    expect(out.body.submission_id).toBe(raw.body.submission_id);
  });
});

describe('the table', () => {
  const docs = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'canvas-docs', 'fields.json'), 'utf8')) as Record<string, string[]>;

  it('knows every field Canvas documents for the 82 types and the metadata', () => {
    expect(Object.keys(docs).filter((t) => t !== 'metadata').length).toBe(82);
    const unknown = Object.entries(docs).flatMap(([type, fields]) =>
      fields.filter((f) => (type === 'metadata' ? fieldOf(undefined, `metadata.${f}`) : fieldOf(type, `body.${f}`)) === undefined).map((f) => `${type}.${f}`),
    );
    expect(unknown).toEqual([]);
  });

  it('a typed field’s type field is kept by every policy (the pass reads it beside the value, also after writing in place)', () => {
    const tables: [string | undefined, ReadonlyMap<string, Field>][] = [[undefined, METADATA_FIELDS], ...[...MAPPERS.keys()].map((t): [string, ReadonlyMap<string, Field>] => [t, bodyFieldsOf(t)])];
    const changed = tables.flatMap(([type, table]) =>
      [...table].filter(([, f]) => f.on !== undefined && table.get(f.on)?.kind !== 'kept').map(([name, f]) => `${type ?? 'metadata'}.${name} reads ${f.on}: ${table.get(f.on!)?.kind ?? 'not in the table'}`),
    );
    expect(changed).toEqual([]);
  });

  it('lists no field both as personal and not personal', () => {
    expect(Object.keys(BODY).filter((f) => NOT_PERSONAL.has(f))).toEqual([]);
  });

  it('every field of every documented example is in the table (so nothing the examples hold is dropped unseen)', () => {
    const missing = new Set<string>();
    const walk = (type: string, part: 'metadata' | 'body', obj: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(obj)) {
        const name = prefix ? `${prefix}.${k}` : k;
        const field = fieldOf(type, `${part}.${name}`);
        if (field === undefined) missing.add(`${type} ${part}.${name}`);
        else if (field.kind === 'kept' && v && typeof v === 'object' && !Array.isArray(v)) walk(type, part, v as Record<string, unknown>, name);
      }
    };
    for (const [, raw] of documented) {
      walk(String(raw.metadata.event_name), 'metadata', raw.metadata, '');
      walk(String(raw.metadata.event_name), 'body', raw.body, '');
    }
    expect([...missing]).toEqual([]);
  });
});
