// Nothing lost, nothing changed silently: each defect of the hardening issue, as the exact output or
// the exact error (code and field) it gives now.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { mapEvent, mapJson } from '../src/engine.js';
import { maskUrl } from '../src/privacy/url.js';
import { KNOWN_BODY_FIELDS } from '../src/known-fields.js';
import { Privacy } from '../src/privacy/policy.js';
import { event, ext, fails, SEND_TIME, systemEvent, userEvent } from './helpers.js';

const json = (raw: unknown) => JSON.stringify(raw);

describe('events made by Canvas jobs (no user) for types whose Caliper event needs a Person actor', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures/events/discussion_topic_created.system.json'), 'utf8'));

  it("Instructure's own course-copy discussion_topic_created example (a fixture pair) keeps Instructure's ThreadEvent, by the application", () => {
    const e = mapEvent(fixture.raw, { sendTime: SEND_TIME }).data[0];
    expect([e.type, e.action, e.actor.type, e.object.type]).toEqual(['ThreadEvent', 'Created', 'SoftwareApplication', 'Thread']);
  });

  it('quiz_submitted from a job keeps Instructure’s AssessmentEvent Submitted, by the application', () => {
    const e = event(systemEvent('quiz_submitted', { quiz_id: '5', submission_id: '7' }));
    expect([e.type, e.action, e.actor.type, e.object.type]).toEqual(['AssessmentEvent', 'Submitted', 'SoftwareApplication', 'Attempt']);
  });

  // Every one of Instructure's 32 types a job can emit: the event type is the one its user-made form has.
  it.each([
    ['discussion_topic_created', { discussion_topic_id: '5', title: 'T' }],
    ['discussion_entry_created', { discussion_entry_id: '3', text: 'hi' }],
    ['quiz_submitted', { quiz_id: '1', submission_id: '2' }],
    ['submission_created', { submission_id: '2', assignment_id: '3' }],
    ['submission_updated', { submission_id: '2', assignment_id: '3' }],
    ['asset_accessed', { asset_type: 'attachment', asset_id: '6' }],
    ['grade_change', { submission_id: '1', assignment_id: '2', score: 1 }],
    ['logged_out', {}],
  ] as const)('%s from a job has the type its user-made form has', (name, body) => {
    const byUser = event(userEvent(name, { ...body }));
    const byJob = event(systemEvent(name, { ...body }));
    expect(byJob.actor.type).toBe('SoftwareApplication');
    expect(byJob.type).toBe(byUser.type);
  });

  it('discussion_entry_created from a job names the author from body.user_id and stays a MessageEvent', () => {
    const e = event(systemEvent('discussion_entry_created', { discussion_entry_id: '3', discussion_topic_id: '2', user_id: '42', text: 'hi' }));
    expect([e.type, e.action, e.actor.id]).toEqual(['MessageEvent', 'Posted', 'urn:instructure:canvas:user:42']);
  });

  it('without body.user_id, a job’s discussion_entry_created keeps Instructure’s MessageEvent Posted, by the application', () => {
    const e = event(systemEvent('discussion_entry_created', { discussion_entry_id: '3', text: 'hi' }));
    expect([e.type, e.action, e.actor.type]).toEqual(['MessageEvent', 'Posted', 'SoftwareApplication']);
  });

  it('one of our types (submission_comment_created) from a job with no user is still the generic Event: ours allow no departure', () => {
    const e = event(systemEvent('submission_comment_created', { submission_comment_id: '3', body: 'hi' }));
    expect([e.type, e.action, e.actor.type]).toEqual(['Event', 'Posted', 'SoftwareApplication']);
  });
});

describe('numbers are never changed', () => {
  const raw = (score: string) => json(userEvent('grade_change', { submission_id: '1', assignment_id: '2', score: 0 })).replace('"score":0', `"score":${score}`);

  it.each([
    ['21070000000000565', 'body.score: the number 21070000000000565 cannot be kept exactly'],
    ['1e400', 'body.score: the number 1e400 cannot be kept exactly'],
    ['1e-400', 'body.score: the number 1e-400 cannot be kept exactly'],
    ['0.12345678901234567891', 'body.score: the number 0.12345678901234567891 cannot be kept exactly'],
  ])('%s is refused, naming the field', (literal, message) => {
    const err = fails(() => mapJson(raw(literal)));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toContain(message);
  });

  it.each([['95.5'], ['1e2'], ['100.0'], ['0.30000000000000004'], ['9007199254740992']])('%s maps to the same value', (literal) => {
    const e = mapJson(raw(literal), { sendTime: SEND_TIME }).data[0];
    expect((e.generated as { scoreGiven: number }).scoreGiven).toBe(Number(literal));
  });

  it('a number inside a string is not a number: a long digit string stays as sent', () => {
    const e = event(userEvent('grade_change', { submission_id: '1', assignment_id: '2', student_sis_id: '21070000000000565', student_id: '3' }));
    expect(ext((e.generated as { attempt: unknown }).attempt) ?? ext((e.object as any).assignee)).toBeDefined();
    expect(JSON.stringify(e)).toContain('"21070000000000565"');
  });
});

describe('timestamps: exactly the forms Canvas sends', () => {
  const due = (value: unknown) => userEvent('assignment_created', { assignment_id: '1', due_at: value });

  it.each([
    ['0019-03-01T10:00:00+02:00', '0019-03-01T08:00:00.000Z'],
    ['2019-11-05 07:38:00 -0800', '2019-11-05T15:38:00.000Z'],
    ['2019-11-05 07:38:00 UTC', '2019-11-05T07:38:00.000Z'],
    ['2019-11-05T13:38:00.218123Z', '2019-11-05T13:38:00.218Z'],
    ['2019-11-05T13:38:00+14:00', '2019-11-04T23:38:00.000Z'],
    ['2019-11-05T13:38:00-12:00', '2019-11-06T01:38:00.000Z'],
  ])('%s → %s', (input, expected) => expect(event(due(input)).object.dateToSubmit).toBe(expected));

  it.each([
    ['2019-11-05T13:38:00+99:99', '"2019-11-05T13:38:00+99:99" has an offset +99:99 outside −12:00…+14:00'],
    ['2019-11-05T13:38:00+24:00', '"2019-11-05T13:38:00+24:00" has an offset +24:00 outside −12:00…+14:00'],
    ['9999-12-31T23:00:00-05:00', '"9999-12-31T23:00:00-05:00" is outside years 0000–9999 in UTC'],
    ['2019-02-29T00:00:00Z', '"2019-02-29T00:00:00Z" is not a valid date-time'],
    ['2019-11-05', '"2019-11-05" is not a timestamp (expected ISO 8601)'],
    [1572961080, 'must be a timestamp string (ISO 8601), not number 1572961080'],
  ])('%s is refused by field name', (input, message) => {
    const err = fails(() => mapEvent(due(input)));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toBe(`event assignment_created: body.due_at: ${message}`);
  });
});

describe('types: each Caliper property gets a value of its kind, or the event is refused by field', () => {
  it.each([
    ['assignment_created', { assignment_id: '1', title: { x: 1 } }, 'body.title: must be a string'],
    ['assignment_created', { assignment_id: '1', description: true }, 'body.description: must be a string'],
    ['assignment_created', { assignment_id: '1', points_possible: 'ten' }, 'body.points_possible: must be a number'],
    ['submission_created', { assignment_id: '1', submission_id: '2', attempt: 1.5 }, 'body.attempt: must be an integer'],
  ])('%s %j', (name, body, message) => {
    const err = fails(() => mapEvent(userEvent(name, body)));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toBe(`event ${name}: ${message}`);
  });

  it('the validator checks value kinds, not only presence', () => {
    const envelope = mapEvent(userEvent('assignment_created', { assignment_id: '1', title: 'T', points_possible: 5 }), { sendTime: SEND_TIME });
    const bad = structuredClone(envelope) as any;
    bad.data[0].object.name = { x: 1 };
    bad.data[0].object.maxScore = 'ten';
    bad.data[0].object.description = true;
    bad.data[0].object.extensions['com.instructure.canvas'].n = Infinity;
    expect(validateEnvelope(bad)).toEqual({
      ok: false,
      error:
        'data[0].object.name: must be a string; data[0].object.extensions.com.instructure.canvas.n: must be a finite number; data[0].object.maxScore: must be a number; data[0].object.description: must be a string',
    });
  });

  it('a __proto__ member is data: under a documented field it is kept, at the top level it is an unknown field and left out', () => {
    const text =
      '{"metadata":' + json(userEvent('learning_outcome_created', {}).metadata) + ',"body":{"learning_outcome_id":"1","title":"T","__proto__":{"a":1},"rubric_criterion":{"__proto__":{"b":2},"mastery_points":3}}}';
    const e = mapJson(text, { sendTime: SEND_TIME }).data[0];
    const extensions = ext(e.object);
    expect(Object.keys(extensions)).not.toContain('__proto__');
    expect(JSON.stringify(e)).not.toContain('"a":1');
    expect(JSON.stringify(extensions.rubric_criterion)).toBe('{"__proto__":{"b":2},"mastery_points":3}');
    expect(({} as Record<string, unknown>).b).toBeUndefined();
  });
});

describe('ids: only the forms Canvas uses', () => {
  it.each([
    ['body.submission_id', userEvent('submission_created', { submission_id: '../../x?y=1#z', assignment_id: '1' })],
    ['body.context_id', userEvent('discussion_topic_created', { discussion_topic_id: '1', context_type: 'Course', context_id: '565:section:7' })],
    ['metadata.user_id', userEvent('wiki_page_created', { wiki_page_id: '1' }, { user_id: '999:42' })],
    ['body.assignment_id', userEvent('assignment_created', { assignment_id: -3 })],
    // Found by the property test in caliper-1.2, where a comment's submission becomes the FeedbackEvent's object.
    ['body.submission_id', userEvent('submission_comment_created', { submission_comment_id: '1', submission_id: "<a href='x'>" })],
  ])('%s is refused', (field, raw) => {
    const err = fails(() => mapEvent(raw));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toMatch(new RegExp(`: ${field.replace('.', '\\.')}: `));
  });

  it('decimal and global (shard~id) ids are accepted', () => {
    expect(event(userEvent('wiki_page_created', { wiki_page_id: '2107~565' })).object.id).toBe('urn:instructure:canvas:wikiPage:2107~565');
    expect(event(userEvent('wiki_page_created', { wiki_page_id: 565 })).object.id).toBe('urn:instructure:canvas:wikiPage:565');
  });
});

describe('credentials never reach the output', () => {
  // maskUrl knows no credential by name: every query value whose parameter is not one of Canvas's own
  // harmless ones (src/privacy/canvas-routes.ts) is masked, so each of these goes, however it is spelt.
  it.each([
    ['https://x.test/a?access%5Ftoken=abc&page=1', 'https://x.test/a?access%5Ftoken=[FILTERED]&page=1'],
    ['https://x.test/a?%61ccess_token=abc', 'https://x.test/a?%61ccess_token=[FILTERED]'],
    ['https://x.test/a?access_token[]=abc', 'https://x.test/a?access_token[]=[FILTERED]'],
    ['https://x.test/login?pseudonym_session[password]=hunter2&pseudonym_session[unique_id]=me', 'https://x.test/login?pseudonym_session[password]=[FILTERED]&pseudonym_session[unique_id]=[FILTERED]'],
    ['https://user:pass@x.test/a', 'https://x.test/a'],
    ['https://x.test/cb?code=abc&state=s', 'https://x.test/cb?code=[FILTERED]&state=[FILTERED]'],
    ['https://x.test/a?oauth_token=1&oauth_signature=2&client_secret=3&password=4&passwd=5&jwt=6', 'https://x.test/a?oauth_token=[FILTERED]&oauth_signature=[FILTERED]&client_secret=[FILTERED]&password=[FILTERED]&passwd=[FILTERED]&jwt=[FILTERED]'],
    ['https://x.test/saml?SAMLResponse=PHNhbWw&ticket=ST-1&api_key=k&private_key=p', 'https://x.test/saml?SAMLResponse=[FILTERED]&ticket=[FILTERED]&api_key=[FILTERED]&private_key=[FILTERED]'],
    ['https://s3.test/f?X-Amz-Signature=abc&X-Amz-Credential=AK&Signature=s&Expires=1', 'https://s3.test/f?X-Amz-Signature=[FILTERED]&X-Amz-Credential=[FILTERED]&Signature=[FILTERED]&Expires=[FILTERED]'],
    ['https://x.test/files/1/download?verifier=abc#access_token=t', 'https://x.test/files/1/download?verifier=[FILTERED]#access_token=[FILTERED]'],
    // Credentials no word list named: a session id, a SAML artifact, a vendor's token.
    ['https://x.test/a;jsessionid=ABC?sessionid=s1&SAMLart=a1&x_token=t1&page=2', 'https://x.test/a?sessionid=[FILTERED]&SAMLart=[FILTERED]&x_token=[FILTERED]&page=2'],
  ])('%s', (input, expected) => expect(maskUrl(input)).toBe(expected));

  // Names made of a credential word with prefixes or suffixes, in each encoding above (plain, %5F-encoded
  // separator, encoded first letter, brackets, fragment): the value goes, whatever the surrounding parts,
  // and Canvas's own `page` after it stays.
  const PREFIXED = ['oauth_verifier', 'x_api_key', 'x-api-key', 'saml_response', 'session[token]', 'client.secret', 'oauthVerifier', 'auth_code', 'sso_ticket', 'my_password_hash', 'user_sig', 'sessionid', 'SAMLart'];
  const ENCODINGS: [string, (name: string) => string][] = [
    ['plain', (n) => `?${n}=SECRET1`],
    ['separators percent-encoded', (n) => `?${n.replace(/[_]/g, '%5F').replace(/-/g, '%2D').replace(/\[/g, '%5B').replace(/\]/g, '%5D')}=SECRET1`],
    ['first letter percent-encoded', (n) => `?%${n.charCodeAt(0).toString(16)}${n.slice(1)}=SECRET1`],
    ['twice encoded', (n) => `?${n.replace(/_/g, '%255F')}=SECRET1`],
    ['with []', (n) => `?${n}[]=SECRET1`],
    ['in the fragment', (n) => `#${n}=SECRET1`],
  ];
  it.each(PREFIXED.flatMap((name) => ENCODINGS.map(([how, encode]) => [name, how, encode(name)] as const)))('%s (%s): masked', (_name, _how, query) => {
    const out = maskUrl(`https://x.test/a${query}&page=1`);
    expect(out).not.toContain('SECRET1');
    expect(out).toContain('=[FILTERED]&page=1');
  });

  it.each(['page=2', 'per_page=100', 'include[]=email', 'include%5B%5D=items', 'module_item_id=457878', 'sort=updated_at&order=desc', 'download_frd=1'])('Canvas’s own harmless parameters (%s) are kept as sent', (query) => {
    const url = `https://x.test/a?${query}`;
    expect(maskUrl(url)).toBe(url);
  });

  // Body fields by allowlist (src/known-fields.ts), not by credential names: a field goes out only when
  // Canvas documents it for the event type or its mapper reads it. No name is judged, so a credential
  // under any name, one nobody has ever seen included, is left out because it is unknown.
  const UNSEEN = `zq${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}`;
  const CREDENTIAL_LIKE = ['password', 'api_key', 'x_auth_token', 'session[token]', 'oauth_verifier', 'SAMLart', 'sessionid', UNSEEN];
  const privacyOf = (policy: 'pseudonymise' | 'drop') => new Privacy({ policy, key: Buffer.from('0123456789abcdef0123456789abcdef-test-key') });
  const withSecrets = (body: Record<string, unknown>) => ({ ...body, ...Object.fromEntries(CREDENTIAL_LIKE.map((name, i) => [name, `SECRET${i}`])) });

  it.each(['instructure', 'caliper-1.1', 'caliper-1.2'] as const)('%s: a body field named like a credential, or never seen before, does not reach the output because it is unknown; documented fields do', (format) => {
    // module_created is one of our 50 types: it publishes every known body field it does not place.
    const raw = userEvent('module_created', withSecrets({ module_id: '1', name: 'Week 1', position: 3, workflow_state: 'active', context_id: '565', context_type: 'Course' }));
    const envelope = mapEvent(raw, { sendTime: SEND_TIME, format });
    const text = JSON.stringify(envelope);
    for (let i = 0; i < CREDENTIAL_LIKE.length; i++) expect(text).not.toContain(`SECRET${i}`);
    for (const name of CREDENTIAL_LIKE) expect(text).not.toContain(JSON.stringify(name));
    expect(validateEnvelope(envelope, { format })).toEqual({ ok: true });
    expect(text).toContain('"position":3');
    expect(text).toContain('"workflow_state":"active"');
    expect(text).toContain('Week 1');
  });

  it('the same in one of Instructure’s 32 types, under every privacy policy', () => {
    for (const privacy of [undefined, 'pseudonymise', 'drop'] as const) {
      const raw = userEvent('wiki_page_created', withSecrets({ wiki_page_id: '1', title: 'Syllabus' }));
      const text = JSON.stringify(mapEvent(raw, { sendTime: SEND_TIME, ...(privacy ? { privacy: privacyOf(privacy) } : {}) }));
      for (let i = 0; i < CREDENTIAL_LIKE.length; i++) expect(text).not.toContain(`SECRET${i}`);
      expect(text).toContain('Syllabus');
    }
  });

  it('a documented field stays whatever its name looks like: quiz_created’s access_code (Canvas documents it), none judged by name', () => {
    const e = event(userEvent('quiz_created', { quiz_id: '5', title: 'Q', access_code: true, password: 'SECRET' }));
    expect(JSON.stringify(e)).not.toContain('SECRET');
    expect(JSON.stringify(e)).toContain('"access_code":true');
  });

  it('a field the mapper reads but Canvas does not document is known too; the raw event is not changed', () => {
    const known = KNOWN_BODY_FIELDS.get('module_created')!;
    expect(known.has('module_id')).toBe(true);
    for (const name of CREDENTIAL_LIKE) expect(known.has(name)).toBe(false);
    const raw = userEvent('module_created', withSecrets({ module_id: '1' }));
    const before = JSON.stringify(raw);
    mapEvent(raw, { sendTime: SEND_TIME });
    expect(JSON.stringify(raw)).toBe(before);
  });

  it('in request_url, referrer, URL fields and links inside text alike', () => {
    const raw = userEvent(
      'wiki_page_updated',
      { wiki_page_id: '1', body: '<a href="https://x.test/files/9/download?verifier=abc">f</a>' },
      { url: 'https://x.test/api?access%5Ftoken=t1', referrer: 'https://x.test/p?code=c1' },
    );
    const text = JSON.stringify(mapEvent(raw, { sendTime: SEND_TIME }));
    for (const secret of ['t1', 'c1', 'abc']) expect(text).not.toMatch(new RegExp(`=${secret}\\b`));
    expect(text).toContain('verifier=[FILTERED]');
  });
});

describe('smaller ones', () => {
  it('a referrer Caliper cannot take ("" or relative) does not reject the event: a relative one goes to the extensions', () => {
    expect(event(userEvent('wiki_page_created', { wiki_page_id: '1' }, { referrer: '' })).referrer).toBeUndefined();
    const e = event(userEvent('wiki_page_created', { wiki_page_id: '1' }, { referrer: '/courses/1/pages' }));
    expect(e.referrer).toBeUndefined();
    expect(ext(e).referrer).toBe('/courses/1/pages');
  });

  it.each(['constructor', '__proto__', 'toString'])('asset_type %s is an asset type like any other', (assetType) => {
    const e = event(userEvent('asset_accessed', { asset_type: assetType, asset_id: '1' }));
    expect(e.object.type).toBe('Entity');
    expect(e.object.id).toBe(`urn:instructure:canvas:${assetType}:1`);
  });

  it.each(['constructor', 'toString'])('context_role %s gives the plain user membership', (role) => {
    expect(event(userEvent('wiki_page_created', { wiki_page_id: '1' }, { context_role: role })).membership.roles).toBeUndefined();
  });

  it.each(['deterministic', 'random'] as const)('5,000 levels of nesting is bad input naming the field (event ids %s), not a mapper error', (eventId) => {
    const text = json(userEvent('wiki_page_created', { wiki_page_id: '1' })).replace('"wiki_page_id":"1"', `"wiki_page_id":"1","deep":${'['.repeat(5000)}${']'.repeat(5000)}`);
    const err = fails(() => mapJson(text, { eventId }));
    expect(err.code).toBe('INVALID_RAW_EVENT');
    expect(err.message).toMatch(/^event wiki_page_created: body\.deep(\[0\])+: nested more than 64 levels deep/);
  });
});
