// The strict output formats (src/formats): for every fixture's raw example (all 82 types, the 40
// asset_accessed examples, the course-copy discussion_topic_created), `caliper-1.1` and `caliper-1.2`
// pass our validator in that format AND IMS's JSON Schema of that version (each event by the schema of
// its type, and the envelope), and keep every body value. IMS's 1.2 fixtures: the 145 well-formed are
// accepted, the 279 malformed rejected. `instructure` stays the default (test/fixtures.test.ts holds
// it to Instructure's examples, untouched).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { parseCaliperJson, validateCaliper12, validateEnvelope12 } from '../src/caliper/validate12.js';
import { loadConfig } from '../src/config.js';
import { main, type Io } from '../src/cli.js';
import { mapEvent, mapInput, type MapOptions } from '../src/engine.js';
import { MappingError } from '../src/errors.js';
import { FORMATS, serializeEnvelope, type Format } from '../src/formats/index.js';
import { NAVIGATION_TABS_11 } from '../src/formats/caliper11.js';
import { caliperTime } from '../mappers/values.js';
import { MAPPERS } from '../mappers/index.js';
import { imsEnvelopeErrors, loadImsSchemas } from './ims-schema.js';
import { referenceProblems } from './reference-rules.js';
import { INSTRUCTURE_EVENT_NAMES } from '../mappers/index.js';
import { ext, missingBodyValues, SEND_TIME, systemEvent, userEvent } from './helpers.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const examples = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as { metadata: { event_name: string }; body: Record<string, unknown> }] as const);
const IMS = { 'caliper-1.1': loadImsSchemas('1_1'), 'caliper-1.2': loadImsSchemas('1_2') };
const STRICT = ['caliper-1.1', 'caliper-1.2'] as const;
const CONTEXT = { 'caliper-1.1': 'http://purl.imsglobal.org/ctx/caliper/v1p1', 'caliper-1.2': 'http://purl.imsglobal.org/ctx/caliper/v1p2' };

const imsErrors = imsEnvelopeErrors;

const map = (raw: unknown, format: Format, options: MapOptions = {}) => mapEvent(raw, { sendTime: SEND_TIME, format, ...options });

describe.each(STRICT)('%s', (format) => {
  it('covers every supported event type', () => {
    expect(new Set(examples.map(([, raw]) => raw.metadata.event_name)).size).toBe(MAPPERS.size);
    expect(MAPPERS.size).toBe(82);
  });

  it.each(examples)('%s: valid by our validator, IMS’s schema and IMS’s reference implementation, every body value kept', (_file, raw) => {
    const envelope = map(raw, format);
    expect(envelope.dataVersion).toBe(CONTEXT[format]);
    expect(envelope.data[0]['@context']).toBe(CONTEXT[format]);
    expect(validateEnvelope(envelope, { format })).toEqual({ ok: true });
    expect(imsErrors(format, envelope)).toEqual([]);
    expect(referenceProblems(envelope, format === 'caliper-1.1' ? '1.1' : '1.2')).toEqual([]);
    expect(missingBodyValues(raw, envelope)).toEqual([]);
    if (format === 'caliper-1.2') {
      // As published: decimals written with a fraction, which IMS's own 1.2 fixtures insist on.
      const { value, integerLexemes } = parseCaliperJson(serializeEnvelope(envelope));
      expect(validateCaliper12(value, { integerLexemes })).toEqual({ ok: true });
      expect(envelope.data[0].profile).toEqual(expect.any(String));
    }
  });

  it('refuses Instructure’s departures: its output for quiz_submitted, discussion_topic_created, asset_accessed is invalid in this format', () => {
    for (const name of ['quiz_submitted.json', 'discussion_topic_created.json', 'asset_accessed.07.json']) {
      const raw = examples.find(([f]) => f === name)![1];
      const instructure = mapEvent(raw, { sendTime: SEND_TIME });
      expect(validateEnvelope(instructure, { departures: true })).toEqual({ ok: true });
      expect(validateEnvelope(instructure, { format }).ok).toBe(false);
      // A Caliper envelope passed through (Canvas's "Caliper IMS" format) is validated in the format published.
      expect(() => mapInput(instructure, { format })).toThrow(MappingError);
    }
  });

  it('a Canvas job’s events stay valid (the generic Event where the type needs a Person)', () => {
    for (const [name, body] of [
      ['quiz_submitted', { quiz_id: '1', submission_id: '2' }],
      ['submission_created', { submission_id: '2', assignment_id: '3', body: 'text', score: 4 }],
      ['discussion_topic_created', { discussion_topic_id: '5', title: 'T' }],
      ['asset_accessed', { asset_type: 'attachment', asset_id: '6' }],
    ] as const) {
      const envelope = map(systemEvent(name, body), format);
      expect(envelope.data[0].type).toBe('Event');
      expect(imsErrors(format, envelope)).toEqual([]);
    }
  });
});

describe('instructure: our 50 types are as valid as the strict format', () => {
  const ours = examples.filter(([, raw]) => !INSTRUCTURE_EVENT_NAMES.has(raw.metadata.event_name));
  it('covers the 50 types', () => expect(new Set(ours.map(([, raw]) => raw.metadata.event_name)).size).toBe(50));

  it.each(ours)('%s: valid by IMS’s 1.1 schema and IMS’s reference implementation for 1.1', (_file, raw) => {
    const envelope = map(raw, 'instructure');
    expect(imsErrors('caliper-1.1', envelope)).toEqual([]);
    expect(referenceProblems(envelope, '1.1')).toEqual([]);
  });
});

describe('the rules of IMS’s reference implementation in our validator', () => {
  const grade = examples.find(([f]) => f === 'grade_change.json')![1];
  const valid = map(grade, 'caliper-1.1');
  const broken = (change: (e: Record<string, any>) => void) => {
    const copy = structuredClone(valid);
    change(copy.data[0] as Record<string, any>);
    return copy;
  };

  it.each([
    ['a Score without its attempt', (e: Record<string, any>) => delete e.generated.attempt, 'data[0].generated.attempt: is required on Score'],
    ['a Membership without its member', (e: Record<string, any>) => delete e.membership.member, 'data[0].membership.member: is required on Membership'],
    ['a role caliper-python does not know', (e: Record<string, any>) => (e.membership.roles = ['Instructor#TeachingAssistant']), 'data[0].membership.roles[0]'],
  ] as const)('%s is refused in both strict formats’ validators and by the reference rules', (_label, change, message) => {
    const envelope = broken(change);
    expect(referenceProblems(envelope, '1.1')).not.toEqual([]);
    const verdict = validateEnvelope(envelope, { format: 'caliper-1.1' });
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.error).toContain(message);
    // The instructure format's fast path says no too (the slow path words it).
    expect(validateEnvelope(envelope, { departures: false }).ok).toBe(false);
  });

  it.each(STRICT)('%s: a SessionEvent LoggedIn by the application is refused; a job’s logged_in is the generic Event', (format) => {
    const login = map(examples.find(([f]) => f === 'logged_in.json')![1], format);
    const byApp = structuredClone(login);
    (byApp.data[0] as Record<string, any>).actor = { id: 'http://oxana.instructure.com/', type: 'SoftwareApplication' };
    expect(validateEnvelope(byApp, { format }).ok).toBe(false);
    expect(referenceProblems(byApp, format === 'caliper-1.1' ? '1.1' : '1.2')).not.toEqual([]);
    const job = map(systemEvent('logged_in', {}), format);
    expect(job.data[0].type).toBe('Event');
    expect(referenceProblems(job, format === 'caliper-1.1' ? '1.1' : '1.2')).toEqual([]);
  });

  it('a NavigationEvent whose object is a SoftwareApplication is refused in 1.1 (an Agent there), as by the reference rules', () => {
    const nav = map(examples.find(([f]) => f === 'asset_accessed.06.json')![1], 'caliper-1.1');
    (nav.data[0] as Record<string, any>).object.type = 'SoftwareApplication';
    expect(referenceProblems(nav, '1.1')).toEqual(['data[0].object: NavigationEvent wants a DigitalResource, not SoftwareApplication']);
    expect(validateEnvelope(nav, { format: 'caliper-1.1' }).ok).toBe(false);
  });
});

describe('caliper-1.1: the spec’s form of each departure', () => {
  const example = (name: string) => map(examples.find(([f]) => f === name)![1], 'caliper-1.1').data[0] as Record<string, any>;

  it('quiz_submitted: AssessmentEvent Submitted, object the Assessment, generated the Attempt', () => {
    const e = example('quiz_submitted.json');
    expect([e.type, e.action, e.object.type, e.generated.type]).toEqual(['AssessmentEvent', 'Submitted', 'Assessment', 'Attempt']);
    expect(e.generated.assignable).toEqual({ id: e.object.id, type: 'Assessment' });
  });

  it('submission_created: AssignableEvent Submitted, object the assignment, generated the Attempt with the submission’s fields', () => {
    const e = example('submission_created.json');
    expect([e.type, e.object.type, e.generated.type]).toEqual(['AssignableEvent', 'AssignableDigitalResource', 'Attempt']);
    expect(e.generated.body).toBeUndefined();
    expect(ext(e.generated)).toMatchObject({ body: 'Test Submission Data', score: 99.5, grade: 'Missing', workflow_state: 'submitted' });
  });

  it('discussion_topic_created: the generic Event Created with a Thread object', () => {
    const e = example('discussion_topic_created.json');
    expect([e.type, e.action, e.object.type]).toEqual(['Event', 'Created', 'Thread']);
  });

  it('asset_accessed: the most specific DigitalResource subtype, never a bare Entity nor (an Agent in 1.1) a SoftwareApplication', () => {
    const types = examples.filter(([f]) => f.startsWith('asset_accessed.')).map(([f, raw]) => [f, map(raw, 'caliper-1.1').data[0].object.type]);
    expect(types.filter(([, t]) => t === 'Entity')).toEqual([]);
    expect(example('asset_accessed.07.json').object.type).toBe(NAVIGATION_TABS_11.announcements);
    // A tool (context_external_tool): IMS's reference implementation for 1.1 takes only a DigitalResource here.
    expect(example('asset_accessed.06.json').object.type).toBe('DigitalResource');
    expect(example('asset_accessed.02.json').type).toBe('Event'); // an unidentified visitor: the application acted
  });

  it('group_created: the category is the Organization the Group is a subOrganizationOf', () => {
    const e = example('group_created.json');
    expect(e.object.isPartOf).toBeUndefined();
    expect(e.object.subOrganizationOf).toMatchObject({ type: 'Organization', name: expect.any(String) });
  });

  it('enrollment_created: a Membership of the user in the section, with the role; state fields under their Canvas names', () => {
    const e = example('enrollment_created.json');
    expect(e.object).toMatchObject({ type: 'Membership', member: { type: 'Person' }, organization: { type: 'CourseSection' }, roles: ['Learner'] });
    const state = example('enrollment_state_created.json');
    expect(state.object.startedAtTime).toBeUndefined();
    expect(ext(state.object).state_started_at).toBe('2019-10-05T13:38:00.000Z');
  });

  it('syllabus_updated: the Document’s body goes to its extensions as syllabus_body', () => {
    const e = example('syllabus_updated.json');
    expect(e.object.body).toBeUndefined();
    expect(ext(e.object).syllabus_body).toEqual(expect.any(String));
  });

  it('a string longer than IMS’s 1.1 schema allows moves to the extensions', () => {
    const long = 'x'.repeat(300);
    const envelope = map(userEvent('wiki_page_created', { wiki_page_id: '1', title: long }), 'caliper-1.1');
    expect(envelope.data[0].object.name).toBeUndefined();
    expect(ext(envelope.data[0].object).title).toBe(long);
    expect(imsErrors('caliper-1.1', envelope)).toEqual([]);
  });
});

describe('caliper-1.2: 1.2’s terms, profiles and options', () => {
  const example = (name: string, options: MapOptions = {}) => map(examples.find(([f]) => f === name)![1], 'caliper-1.2', options).data[0] as Record<string, any>;

  it('a person managing content is a ResourceManagementEvent; the rest keep their type, each with its profile', () => {
    expect([example('wiki_page_created.json').type, example('wiki_page_created.json').profile]).toEqual(['ResourceManagementEvent', 'ResourceManagementProfile']);
    expect([example('course_created.json').type, example('course_created.json').profile]).toEqual(['Event', 'GeneralProfile']);
    expect(example('quiz_submitted.json').profile).toBe('AssessmentProfile');
    expect(example('grade_change.json').profile).toBe('GradingProfile');
    expect(example('logged_in.json').profile).toBe('SessionProfile');
    expect(example('discussion_entry_created.json').profile).toBe('ForumProfile');
    expect(example('asset_accessed.01.json').profile).toBe('AssignableProfile');
    expect(example('asset_accessed.39.json').profile).toBe('ReadingProfile');
    expect(example('lti_resource_link_created.json').object.type).toBe('LtiLink');
  });

  it('a submission comment is feedback on the submission (FeedbackEvent Commented, a Comment generated); an upload is Uploaded', () => {
    const comment = example('submission_comment_created.json');
    expect([comment.type, comment.action, comment.profile, comment.object.type, comment.generated.type]).toEqual(['FeedbackEvent', 'Commented', 'FeedbackProfile', 'Attempt', 'Comment']);
    expect(comment.generated.commentedOn).toEqual(comment.object);
    expect(comment.generated.value).toBe(examples.find(([f]) => f === 'submission_comment_created.json')![1].body.body);
    expect(comment.generated.commenter.type).toBe('Person');
    const upload = example('attachment_created.json');
    expect([upload.type, upload.action]).toEqual(['ResourceManagementEvent', 'Uploaded']);
  });

  it('CALIPER_EDAPP_ID and CALIPER_SESSION=auto-attach', () => {
    const options = { formatOptions: { edAppId: 'https://platform.example/apps/canvas', session: 'auto-attach' as const } };
    const e = example('logged_in.json', options);
    expect(e.edApp).toEqual({ id: 'https://platform.example/apps/canvas', type: 'SoftwareApplication' });
    expect(e.object.id).toBe('https://platform.example/apps/canvas');
    // A login begins its session: it keeps Canvas's, started at the event's time; other events auto-attach.
    expect(e.session).toEqual({ id: 'urn:instructure:canvas:session:ef686f8ed684abf78cbfa1f6a58112b5', type: 'Session', startedAtTime: e.eventTime });
    const graded = example('grade_change.json', options);
    expect(graded.session).toBe('urn:tag:auto-attach');
    expect(ext(graded).session_id).toBe('ef686f8ed684abf78cbfa1f6a58112b5');
    const envelope = map(examples.find(([f]) => f === 'logged_in.json')![1], 'caliper-1.2', options);
    expect(validateEnvelope12(envelope)).toEqual({ ok: true });
    expect(imsErrors('caliper-1.2', envelope)).toEqual([]);
  });

  it('decimals are published with a fraction; the value is the same number', () => {
    const envelope = map(examples.find(([f]) => f === 'grade_change.json')![1], 'caliper-1.2');
    const text = serializeEnvelope(envelope);
    expect(text).toContain('"scoreGiven":5.0');
    expect(JSON.parse(text)).toEqual(envelope);
  });
});

describe('IMS’s Caliper 1.2 fixtures (test/fixtures/caliper-v1p2)', () => {
  const v1p2 = path.join(import.meta.dirname, 'fixtures', 'caliper-v1p2');
  const wellFormed = fs.readdirSync(v1p2).filter((f) => f.endsWith('.json')).sort();
  const malformed = fs.readdirSync(path.join(v1p2, 'commonErrorFixtures')).sort();
  const read = (...p: string[]) => fs.readFileSync(path.join(v1p2, ...p), 'utf8');

  it('holds 145 well-formed and 279 malformed', () => {
    expect(wellFormed.length).toBe(145);
    expect(malformed.length).toBe(279);
  });

  // "Accepted": an envelope when it is a 1.2 envelope and every data item (as many as it holds, events
  // and entities) is a valid event or entity; an event or an entity (a SystemIdentifier and a
  // TextPositionSelector included) when it is valid on its own. Numbers are read as written, so a
  // decimal written as an integer is refused as IMS's fixtures require.
  it.each(wellFormed.filter((f) => f !== 'caliperEndpointConfigPayload.json'))('accepts %s', (file) => {
    const { value, integerLexemes } = parseCaliperJson(read(file));
    expect(validateCaliper12(value, { integerLexemes })).toEqual({ ok: true });
  });

  // The one well-formed fixture that is not Caliper data: an endpoint's configuration (the spec's
  // "Configuration Information"), which lists the Caliper versions it takes. Accepted = it names 1.2.
  it('accepts caliperEndpointConfigPayload.json as an endpoint configuration that takes 1.2', () => {
    const config = JSON.parse(read('caliperEndpointConfigPayload.json'));
    expect(config.caliper_supported_versions).toContain('http://purl.imsglobal.org/ctx/caliper/v1p2');
  });

  // "Rejected": not JSON, or refused by our validator. Two are not JSON: caliperEntity-BadJson, and
  // caliperEntitySurvey-MalformedItemsContainsWrongEntityType, whose trailing comma IMS left in by
  // mistake (its intended defect, a Person among a Survey's items, is refused too once the comma goes).
  const NOT_JSON = ['caliperEntity-BadJson.json', 'caliperEntitySurvey-MalformedItemsContainsWrongEntityType.json'];
  it.each(malformed)('rejects %s', (file) => {
    let text = read('commonErrorFixtures', file);
    if (NOT_JSON.includes(file)) {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      text = text.replace(/,(\s*[}\]])/g, '$1');
      if (file === NOT_JSON[0]) return;
    }
    const { value, integerLexemes } = parseCaliperJson(text);
    expect(validateCaliper12(value, { integerLexemes }).ok).toBe(false);
  });
});

describe('wiring', () => {
  it('instructure is the default and unchanged', () => {
    for (const [, raw] of examples.slice(0, 20)) expect(mapEvent(raw, { sendTime: SEND_TIME, format: 'instructure' })).toEqual(mapEvent(raw, { sendTime: SEND_TIME }));
    expect(FORMATS).toEqual(['instructure', 'caliper-1.1', 'caliper-1.2']);
  });

  it('CALIPER_FORMAT, CALIPER_EDAPP_ID and CALIPER_SESSION are checked with the worker’s configuration', () => {
    const base = { SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', KINESIS_STREAM_NAME: 's', AWS_REGION: 'us-east-1' };
    expect(loadConfig(base).CALIPER_FORMAT).toBe('instructure');
    expect(loadConfig({ ...base, CALIPER_FORMAT: 'caliper-1.2', CALIPER_EDAPP_ID: 'https://p.example/app', CALIPER_SESSION: 'auto-attach' })).toMatchObject({
      CALIPER_FORMAT: 'caliper-1.2',
      CALIPER_EDAPP_ID: 'https://p.example/app',
      CALIPER_SESSION: 'auto-attach',
    });
    expect(() => loadConfig({ ...base, CALIPER_FORMAT: 'caliper-2' })).toThrow(/CALIPER_FORMAT must be instructure, caliper-1.1, caliper-1.2/);
    expect(() => loadConfig({ ...base, CALIPER_SESSION: 'auto-attach' })).toThrow(/options of CALIPER_FORMAT=caliper-1.2/);
    expect(() => loadConfig({ ...base, CALIPER_FORMAT: 'caliper-1.2', CALIPER_EDAPP_ID: 'not an iri' })).toThrow(/CALIPER_EDAPP_ID must be an absolute IRI/);
  });

  it('map --format', async () => {
    const run = async (argv: string[], stdin: string) => {
      let stdout = '';
      let stderr = '';
      const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [stdin] };
      return { code: await main(argv, io), stdout, stderr };
    };
    const raw = JSON.stringify(examples.find(([f]) => f === 'grade_change.json')![1]);
    const out = await run(['map', '--format', 'caliper-1.2', '--send-time', SEND_TIME, '--edapp-id', 'https://p.example/app', '--session', 'auto-attach'], raw);
    expect(out.code).toBe(0);
    const envelope = JSON.parse(out.stdout);
    expect(envelope).toMatchObject({ dataVersion: CONTEXT['caliper-1.2'], data: [{ profile: 'GradingProfile', edApp: { id: 'https://p.example/app' }, session: 'urn:tag:auto-attach' }] });
    expect(out.stdout).toContain('"scoreGiven":5.0');
    expect((await run(['map', '--format', 'caliper-1.1', '--send-time', SEND_TIME], raw)).stdout).toBe(`${JSON.stringify(map(JSON.parse(raw), 'caliper-1.1'))}\n`);
    expect((await run(['map', '--format', 'caliper-3'], raw)).code).toBe(2);
    expect((await run(['map', '--format', 'caliper-1.1', '--session', 'auto-attach'], raw)).code).toBe(2);
  });
});

describe('strict formats under hostile input (as test/property.test.ts for instructure)', () => {
  const SECRET = 'S3CR3T';
  const HOSTILE = [
    'null', '{"x":{"y":1}}', '[1,"a",null]', 'true', '"ten"', '""', '-1', '1.5', '21070000000000565', '"2019-11-05T13:38:00+99:99"',
    '"0019-03-01T10:00:00+02:00"', '1572961080', '"../../x?y=1#z"', '"2107~565"', '"constructor"', '"__proto__"',
    `"https://u:${SECRET}@x.test/a?access%5Ftoken=${SECRET}&code=${SECRET}"`, `"<a href='https://x.test/f?verifier=${SECRET}'>f</a>"`,
  ];
  const byType = new Map<string, (typeof examples)[number][1]>();
  for (const [, raw] of examples) if (!byType.has(raw.metadata.event_name)) byType.set(raw.metadata.event_name, raw);
  const JOB = { job_id: '1020020528469291', job_tag: 'Canvas::Migration::Worker::CourseCopyWorker#perform' };
  const REQUEST = ['request_id', 'hostname', 'session_id', 'url', 'referrer', 'user_agent', 'client_ip', 'http_method', 'user_id', 'real_user_id', 'user_login', 'user_sis_id', 'context_role'];

  it.each(STRICT)('%s: every type’s job form, and each body field deleted or replaced, maps to valid output or is refused by field', (format) => {
    let mapped = 0;
    let refused = 0;
    for (const [name, raw] of byType) {
      const job = structuredClone(raw) as { metadata: Record<string, unknown>; body: Record<string, unknown> };
      for (const f of REQUEST) delete job.metadata[f];
      Object.assign(job.metadata, JOB);
      const texts = [JSON.stringify(job)];
      Object.keys(raw.body).forEach((key, i) => {
        const copy = structuredClone(raw) as { body: Record<string, unknown> };
        const replacement = HOSTILE[(i * 7 + name.length) % HOSTILE.length]!;
        copy.body[key] = '__MUTATED__';
        texts.push(JSON.stringify(copy).replace('"__MUTATED__"', replacement));
        delete copy.body[key];
        texts.push(JSON.stringify(copy));
      });
      for (const text of texts) {
        let envelope;
        try {
          envelope = mapEvent(JSON.parse(text), { sendTime: SEND_TIME, format });
        } catch (err) {
          expect(err, `${name}: ${String(err)}`).toBeInstanceOf(MappingError);
          expect(['INVALID_RAW_EVENT', 'NOT_AN_OBJECT', 'UNKNOWN_EVENT'], `${name}: ${(err as Error).message}`).toContain((err as MappingError).code);
          refused++;
          continue;
        }
        expect(validateEnvelope(envelope, { format }), text).toEqual({ ok: true });
        expect(imsErrors(format, envelope), text).toEqual([]);
        expect(serializeEnvelope(envelope), `${name}: a credential reached the output`).not.toContain(SECRET);
        mapped++;
      }
    }
    expect(mapped).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(10);
  });
});
