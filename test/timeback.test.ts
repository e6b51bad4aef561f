// A Caliper 1.2 platform's identities and IRIs, and which events go (docs/timeback.md): PERSON_ID_MAP
// (read, normalised, re-read from a file and from S3 on loopback), CALIPER_IRI=https, PERSON_ID_UNMAPPED,
// CALIPER_EVENT_TYPES, CALIPER_NAVIGATION=view, timed sessions, the configuration and `map`'s flags.
// Every fixture event is mapped with TimeBack's configuration and held to IMS's 1.2 JSON Schema, our
// validator and the platform's IRI forms.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { ConfigError, loadConfig, mapOptions, withPersonMap } from '../src/config.js';
import { mapEvent, mapInput, type MapOptions } from '../src/engine.js';
import { MappingError, SkippedEvent } from '../src/errors.js';
import { caliperTypeFilter } from '../src/filter.js';
import { FORMATS, serializeEnvelope, type Format } from '../src/formats/index.js';
import { iriContext, iriOf, nameUuid, type IriOptions } from '../src/iri.js';
import { openPersonMap, parsePersonMap, PersonMap, PersonMapError, s3Source } from '../src/person-map.js';
import { readMessage, recordFor } from '../src/worker/decode.js';
import { eventFilter } from '../src/filter.js';
import { globalId, shardOf } from '../mappers/ids.js';
import { main, type Io } from '../src/cli.js';
import { imsEnvelopeErrors } from './ims-schema.js';
import { SEND_TIME } from './helpers.js';

type Raw = { metadata: Record<string, unknown> & { event_name: string }; body: Record<string, unknown> };
const dir = path.join(import.meta.dirname, 'fixtures', 'events');
const examples = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).raw as Raw] as const);
const example = (name: string) => structuredClone(examples.find(([f]) => f === name)![1]);
const map = (raw: unknown, format: Format, options: MapOptions = {}) => mapEvent(structuredClone(raw), { sendTime: SEND_TIME, format, ...options });

const csv = (text: string) => Buffer.from(text);
const UUID_A = '6f1c2b3a-1111-4111-8111-111111111111';
const UUID_B = '22222222-2222-4222-8222-222222222222';

/** Every user id any fixture's output names (urn style), and a platform id for each: the roster of the tests. */
const USER_URN = /^urn:instructure:canvas:user:([^:]+)$/;
function strings(value: unknown, out: string[] = [], inExtensions = false): string[] {
  if (typeof value === 'string') {
    if (!inExtensions) out.push(value);
  } else if (Array.isArray(value)) value.forEach((v) => strings(v, out, inExtensions));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (k !== '@context' && k !== 'dataVersion') strings(v, out, inExtensions || k === 'extensions');
  return out;
}
/** The user ids an event's output names (in the urn style), each in its global form on the event's root account shard. */
const usersOf = (raw: Raw, format: Format) => strings(map(raw, format)).flatMap((s) => USER_URN.exec(s)?.[1] ?? []).map((id) => globalId(id, shardOf(String(raw.metadata.root_account_id))));
const userIds = new Set(examples.flatMap(([, raw]) => FORMATS.flatMap((f) => usersOf(raw, f))));
const platformId = (userId: string) => nameUuid(`test:${userId}`).slice('urn:uuid:'.length);
const rosterCsv = `canvas_user_id,person_id\n${[...userIds].map((id) => `${id},${platformId(id)}`).join('\n')}\n`;
const roster = parsePersonMap(csv(rosterCsv), 'roster');

/** Every Person entity of an event, outside extensions. */
function persons(value: unknown, out: { id: string }[] = []): { id: string }[] {
  if (Array.isArray(value)) value.forEach((v) => persons(v, out));
  else if (value && typeof value === 'object') {
    if ((value as { type?: unknown }).type === 'Person') out.push(value as { id: string });
    for (const [k, v] of Object.entries(value)) if (k !== 'extensions') persons(v, out);
  }
  return out;
}

describe('Canvas ids in every form', () => {
  it('global, shard~local and local on the root account’s shard are one id', () => {
    expect(shardOf('21070000000000001')).toBe(2107n);
    expect(shardOf('565')).toBeUndefined();
    expect(globalId('21070000000000565')).toBe('21070000000000565');
    expect(globalId('2107~565')).toBe('21070000000000565');
    expect(globalId('565', 2107n)).toBe('21070000000000565');
    expect(globalId('0565')).toBe('565');
    expect(globalId('565')).toBe('565');
    // Canvas's "no user" is 0 on every shard; an LTI id is not a Canvas id.
    expect(globalId('0', 2107n)).toBe('0');
    expect(globalId('a1b2c3', 2107n)).toBe('a1b2c3');
  });
});

describe('PERSON_ID_MAP: the CSV', () => {
  it('reads the two columns in any order among others, BOM, CRLF, quotes and blank lines; UUIDs in any case, urn:uuid: optional', () => {
    const ids = parsePersonMap(
      csv(`\uFEFFemail,person_id,canvas_user_id\r\n"a@x, b",urn:uuid:${UUID_A.toUpperCase()},21070000000000048\r\n\r\nb@x,"${UUID_B}",2107~987\r\n`),
      'm.csv',
    );
    expect(ids.size).toBe(2);
    expect(ids.lookup('21070000000000048')).toBe(`urn:uuid:${UUID_A}`);
    expect(ids.lookup('21070000000000987')).toBe(`urn:uuid:${UUID_B}`);
  });

  it('matches a Canvas user id in any form on either side (global, local on the root account’s shard, shard~id)', () => {
    const ids = parsePersonMap(csv(`canvas_user_id,person_id\n21070000000000048,${UUID_A}\n987,${UUID_B}\n`), 'm.csv');
    for (const form of ['21070000000000048', '2107~48', '48']) expect(ids.lookup(form, 2107n), form).toBe(`urn:uuid:${UUID_A}`);
    for (const form of ['21070000000000987', '2107~987', '987']) expect(ids.lookup(form, 2107n), form).toBe(`urn:uuid:${UUID_B}`);
    // A local id in the map is on the event's root account shard, not on another shard.
    expect(ids.lookup('30000000000000987', 2107n)).toBeUndefined();
    expect(ids.lookup('48')).toBeUndefined(); // no shard known: a local 48 is not global 2107…048
    expect(ids.lookup('49', 2107n)).toBeUndefined();
  });

  it.each([
    ['no header columns', 'user,person\n1,' + UUID_A, /line 1: the header must name the columns canvas_user_id and person_id/],
    ['a bad person id', `canvas_user_id,person_id\n1,${UUID_A}\n2,not-a-uuid\n`, /line 3: person_id is not a UUID/],
    ['a bad user id', `canvas_user_id,person_id\n1,${UUID_A}\nalice,${UUID_B}\n`, /line 3: canvas_user_id is not a Canvas user id/],
    ['two person ids for one user (in two forms)', `canvas_user_id,person_id\n21070000000000001,${UUID_A}\n2107~1,${UUID_B}\n`, /line 3: canvas_user_id has another person_id on line 2/],
    ['a short row', `canvas_user_id,person_id\n1\n`, /line 2: 1 fields where the header has 2/],
    ['an unclosed quote', `canvas_user_id,person_id\n"1,${UUID_A}\n`, /line 2: a quoted field is not closed/],
    ['only a header', 'canvas_user_id,person_id\n', /no rows after the header/],
    ['nothing', '', /empty/],
  ])('refuses %s, naming the line and no value', (_case, text, message) => {
    let error: unknown;
    try {
      parsePersonMap(csv(text), 'm.csv');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PersonMapError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toMatch(/not-a-uuid|alice|2222|1111/);
  });

  it('the same pair twice is one row', () => {
    expect(parsePersonMap(csv(`canvas_user_id,person_id\n2107~1,${UUID_A}\n21070000000000001,${UUID_A.toUpperCase()}\n`), 'm').size).toBe(1);
  });
});

describe('PERSON_ID_MAP: re-read without a restart', () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'person-map-'))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a file: a new row applies after a re-read; an unchanged file is not read again; a bad version keeps the last good map and says so', async () => {
    const file = path.join(tmp, 'map.csv');
    fs.writeFileSync(file, `canvas_user_id,person_id\n1,${UUID_A}\n`);
    const personMap = await openPersonMap(file);
    expect(personMap.lookup('2', 2107n)).toBeUndefined();
    expect(await personMap.refresh()).toBe('unchanged');
    fs.writeFileSync(file, `canvas_user_id,person_id\n1,${UUID_A}\n2,${UUID_B}\n`);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(await personMap.refresh()).toBe('loaded');
    expect(personMap.lookup('2', 2107n)).toBe(`urn:uuid:${UUID_B}`);
    expect(personMap.status).toMatchObject({ rows: 2, reloads: 1, refreshFailures: 0 });

    // A half-written upload: the re-read fails, the last good map stays, one warning, one failure counted.
    fs.writeFileSync(file, `canvas_user_id,person_id\n1,${UUID_A}\n2,`);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    const lines: { level: string; o: Record<string, unknown>; msg: string }[] = [];
    const stop = personMap.start(0.05, { info: (o, msg) => lines.push({ level: 'info', o: o as Record<string, unknown>, msg }), warn: (o, msg) => lines.push({ level: 'warn', o: o as Record<string, unknown>, msg }) });
    await until(() => personMap.status.refreshFailures > 0);
    stop();
    expect(personMap.lookup('2', 2107n)).toBe(`urn:uuid:${UUID_B}`);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'PERSON_ID_MAP re-read failed; the last good map stays in use', o: { rows: 2 } });
    expect(String(lines[0]!.o.error)).toMatch(/line 3: person_id is not a UUID/);
  });

  it('the worker’s timer: a row added to the file is used from the next re-read on, no restart, one log line', async () => {
    const file = path.join(tmp, 'timer.csv');
    fs.writeFileSync(file, `canvas_user_id,person_id\n1,${UUID_A}\n`);
    const personMap = await openPersonMap(file);
    const lines: string[] = [];
    const stop = personMap.start(0.05, { info: (_o, msg) => lines.push(msg), warn: (_o, msg) => lines.push(msg) });
    const raw = example('grade_change.json');
    const options: MapOptions = { iri: { persons: personMap, unmapped: 'dlq' } };
    expect(() => map(raw, 'caliper-1.2', options)).toThrow(expect.objectContaining({ code: 'UNMAPPED_PERSON' }));
    fs.writeFileSync(file, `canvas_user_id,person_id\n1,${UUID_A}\n${raw.metadata.user_id},${UUID_B}\n${raw.body.student_id},${UUID_A}\n`);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    await until(() => personMap.status.reloads === 1);
    stop();
    expect((map(raw, 'caliper-1.2', options).data[0].actor as { id: string }).id).toBe(`urn:uuid:${UUID_B}`);
    expect(lines).toEqual(['PERSON_ID_MAP re-read']);
  });

  it('a lookup of anything that is not a Canvas user id finds nothing and throws nothing', () => {
    const ids = parsePersonMap(csv(`canvas_user_id,person_id\n1,${UUID_A}\n`), 'm');
    for (const id of ['', 'abc', '1.0', '-1', '~1', '1~', '2107~', '99999999999999999999999999999999', '__proto__', 'constructor']) expect(ids.lookup(id, 2107n), id).toBeUndefined();
    expect(ids.lookup('1', 2107n)).toBe(`urn:uuid:${UUID_A}`);
  });

  it('a map that cannot be read at start is a configuration error naming it and the line', async () => {
    const file = path.join(tmp, 'bad.csv');
    fs.writeFileSync(file, `canvas_user_id,person_id\n1,${UUID_A}\nx,${UUID_B}\n`);
    const config = loadConfig({ ...BASE, PERSON_ID_MAP: file });
    const error = await withPersonMap(config).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([`PERSON_ID_MAP ${file}, line 3: canvas_user_id is not a Canvas user id (digits, or shard~id)`]);
    const missing = await withPersonMap(loadConfig({ ...BASE, PERSON_ID_MAP: path.join(tmp, 'nope.csv') })).catch((err: unknown) => err);
    expect((missing as ConfigError).problems[0]).toMatch(/^PERSON_ID_MAP .*nope\.csv cannot be read: ENOENT/);
  });

  describe('an S3 object (an S3-compatible server on loopback)', () => {
    let server: http.Server;
    let object = { body: `canvas_user_id,person_id\n1,${UUID_A}\n`, etag: '"v1"' };
    const requests: { ifNoneMatch?: string; path?: string }[] = [];
    let failNext = false;
    let s3: S3Client;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        requests.push({ ifNoneMatch: req.headers['if-none-match'], path: req.url });
        if (failNext) {
          failNext = false;
          return res.writeHead(500, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>down</Message></Error>');
        }
        if (req.url?.split('?')[0] !== '/school-maps/timeback/roster.csv') return res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
        if (req.headers['if-none-match'] === object.etag) return res.writeHead(304, { etag: object.etag }).end();
        res.writeHead(200, { etag: object.etag, 'content-type': 'text/csv', 'content-length': Buffer.byteLength(object.body) }).end(object.body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      s3 = new S3Client({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    });
    afterAll(() => {
      s3?.destroy();
      server?.close();
    });

    it('GetObject with If-None-Match on the ETag: 304 is unchanged, a new ETag brings the new row, a failure keeps the last good map', async () => {
      const personMap = await PersonMap.open(s3Source('s3://school-maps/timeback/roster.csv', 'us-east-1', s3));
      expect(personMap.lookup('1', 2107n)).toBe(`urn:uuid:${UUID_A}`);
      expect(requests.at(-1)).toMatchObject({ ifNoneMatch: undefined });
      expect(await personMap.refresh()).toBe('unchanged');
      expect(requests.at(-1)).toMatchObject({ ifNoneMatch: '"v1"' });
      object = { body: `${object.body}2,${UUID_B}\n`, etag: '"v2"' };
      expect(await personMap.refresh()).toBe('loaded');
      expect(personMap.lookup('2', 2107n)).toBe(`urn:uuid:${UUID_B}`);
      failNext = true;
      await expect(personMap.refresh()).rejects.toThrow();
      expect(personMap.lookup('2', 2107n)).toBe(`urn:uuid:${UUID_B}`);
      const missing = await PersonMap.open(s3Source('s3://school-maps/other.csv', 'us-east-1', s3)).catch((err: unknown) => err);
      expect(missing).toBeInstanceOf(PersonMapError);
      expect((missing as Error).message).toMatch(/^PERSON_ID_MAP s3:\/\/school-maps\/other.csv cannot be read/);
    });
  });
});

/** TimeBack's events reference: the types and actions it accepts. */
const TIMEBACK_TYPES = ['SessionEvent.LoggedIn', 'SessionEvent.LoggedOut', 'SessionEvent.TimedOut', 'AssignableEvent', 'AssessmentEvent', 'AssessmentItemEvent', 'GradeEvent.Graded', 'ViewEvent.Viewed'];
const EDAPP = 'urn:uuid:0a0b0c0d-0000-4000-8000-000000000001';
const TIMEBACK: MapOptions = {
  formatOptions: { edAppId: EDAPP, session: 'auto-attach', navigation: 'view' },
  iri: { style: 'https', persons: roster, unmapped: 'dlq' },
  caliperTypes: caliperTypeFilter(TIMEBACK_TYPES),
};

describe('TimeBack’s configuration: caliper-1.2, https IRIs, the edApp id, auto-attach sessions, the map, its event types', () => {
  const published = examples.flatMap(([file, raw]) => {
    try {
      return [[file, map(raw, 'caliper-1.2', TIMEBACK)] as const];
    } catch (err) {
      if (err instanceof SkippedEvent) return [];
      throw err;
    }
  });

  it('publishes the logins, logouts, submissions, grades and views, and nothing the platform refuses', () => {
    const kinds = new Set(published.map(([, e]) => `${e.data[0].type}.${e.data[0].action}`));
    expect([...kinds].sort()).toEqual(['AssessmentEvent.Submitted', 'AssignableEvent.Submitted', 'GradeEvent.Graded', 'SessionEvent.LoggedIn', 'SessionEvent.LoggedOut', 'ViewEvent.Viewed']);
    expect(published.filter(([f]) => f.startsWith('asset_accessed')).length).toBeGreaterThan(30);
  });

  it.each(examples.map(([f]) => f))('%s: valid by IMS’s 1.2 JSON Schema and our validator; every IRI https://, urn:uuid: or urn:tag:auto-attach; every person mapped', (file) => {
    const found = published.find(([f]) => f === file);
    if (!found) return;
    const envelope = found[1];
    expect(validateEnvelope(envelope, { format: 'caliper-1.2' })).toEqual({ ok: true });
    expect(imsEnvelopeErrors('caliper-1.2', envelope)).toEqual([]);
    const iris = strings(envelope).filter((s) => /^(https?|urn|tag|mailto):/i.test(s));
    expect(iris.filter((s) => !/^(https:\/\/[a-z0-9.-]+\/|urn:uuid:[0-9a-f-]{36}$|urn:tag:auto-attach$)/.test(s))).toEqual([]);
    const event = envelope.data[0];
    expect(event.edApp).toMatchObject({ id: EDAPP });
    for (const person of persons(event)) expect(person.id).toMatch(/^urn:uuid:/);
    if (event.type === 'SessionEvent') expect(event.session).toMatchObject({ type: 'Session', [event.action === 'LoggedIn' ? 'startedAtTime' : 'endedAtTime']: event.eventTime });
    else expect(event.session).toBe('urn:tag:auto-attach');
  });

  it('a grade carries its Score with scoreGiven and maxScore where Canvas sends them', () => {
    const grade = published.find(([f]) => f === 'grade_change.json')![1].data[0] as Record<string, any>;
    const raw = example('grade_change.json');
    expect(grade.generated).toMatchObject({ type: 'Score', scoreGiven: raw.body.score, maxScore: raw.body.points_possible });
    expect(grade.generated.attempt.assignee.id).toMatch(/^urn:uuid:/);
    // Instructure names the Score by its submission: under https it is an entity of its own, its Attempt the object's.
    expect(grade.generated.id).toMatch(/^urn:uuid:/);
    expect(grade.generated.id).not.toBe(grade.object.id);
    expect(grade.generated.attempt.id).toBe(grade.object.id);
    // Published with a fraction, as IMS's 1.2 fixtures write decimals.
    expect(serializeEnvelope(published.find(([f]) => f === 'grade_change.json')![1])).toMatch(/"scoreGiven":\d+\.\d/);
  });
});

describe('the person identity map in every format', () => {
  it.each(FORMATS)('%s: every Person carries its platform id, and no Canvas user id is left in an IRI', (format) => {
    for (const [file, raw] of examples) {
      const envelope = map(raw, format, { iri: { persons: roster } });
      expect(validateEnvelope(envelope, format === 'instructure' ? {} : { format }), file).toEqual({ ok: true });
      const event = envelope.data[0];
      for (const person of persons(event)) expect(person.id, file).toMatch(/^urn:uuid:/);
      expect(strings(event).filter((s) => s.startsWith('urn:instructure:canvas:user:')), file).toEqual([]);
      // The persons are the map's own: the user's platform id, not another.
      for (const id of usersOf(raw, format)) expect(strings(event), file).toContain(`urn:uuid:${platformId(id)}`);
    }
  });

  it('PERSON_ID_UNMAPPED: dlq (default) refuses the event UNMAPPED_PERSON naming where, never who; skip skips it; keep keeps the Canvas IRI', () => {
    const raw = example('grade_change.json');
    const partial = parsePersonMap(csv(`canvas_user_id,person_id\n${raw.metadata.user_id},${UUID_A}\n`), 'm');
    const options = (unmapped?: IriOptions['unmapped']): MapOptions => ({ iri: { persons: partial, unmapped } });
    const error = (() => {
      try {
        map(raw, 'caliper-1.2', options());
      } catch (err) {
        return err as MappingError;
      }
    })();
    expect(error).toBeInstanceOf(MappingError);
    expect(error).not.toBeInstanceOf(SkippedEvent);
    expect(error!.code).toBe('UNMAPPED_PERSON');
    expect(error!.message).toBe('event grade_change: PERSON_ID_MAP has no person_id for the user at object.assignee, generated.attempt.assignee (PERSON_ID_UNMAPPED=dlq)');
    expect(() => map(raw, 'caliper-1.2', options('skip'))).toThrow(SkippedEvent);
    const kept = map(raw, 'caliper-1.2', options('keep')).data[0] as Record<string, any>;
    expect(kept.actor.id).toBe(`urn:uuid:${UUID_A}`);
    expect(kept.object.assignee.id).toBe(`urn:instructure:canvas:user:${raw.body.student_id}`);
    const keptHttps = map(raw, 'caliper-1.2', { iri: { persons: partial, unmapped: 'keep', style: 'https' } }).data[0] as Record<string, any>;
    expect(keptHttps.object.assignee.id).toBe(`https://${raw.metadata.hostname}/users/${raw.body.student_id}`);
  });
});

describe('CALIPER_IRI=https', () => {
  const ctx = iriContext({ hostname: 'Canvas.Example.edu', root_account_id: '21070000000000001' } as never, { style: 'https' });
  it('a Canvas route where the id alone names the page; a section inside its course; else a name-based urn:uuid of the global id', () => {
    expect(iriOf('urn:instructure:canvas:course:565', ctx)).toBe('https://canvas.example.edu/courses/21070000000000565');
    expect(iriOf('urn:instructure:canvas:user:2107~48', ctx)).toBe('https://canvas.example.edu/users/21070000000000048');
    expect(iriOf('urn:instructure:canvas:attachment:21070000000000007', ctx)).toBe('https://canvas.example.edu/files/21070000000000007');
    expect(iriOf('urn:instructure:canvas:course:565:section:12', ctx)).toBe('https://canvas.example.edu/courses/21070000000000565/sections/21070000000000012');
    // One assignment, one IRI, in whatever form an event names it.
    const assignment = iriOf('urn:instructure:canvas:assignment:21070000000000355', ctx);
    expect(assignment).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(iriOf('urn:instructure:canvas:assignment:355', ctx)).toBe(assignment);
    expect(iriOf('urn:instructure:canvas:assignment:2107~355', ctx)).toBe(assignment);
    expect(iriOf('urn:instructure:canvas:assignment:356', ctx)).not.toBe(assignment);
    // The application, and what is not ours, as the style says.
    expect(iriOf('http://Canvas.Example.edu/', ctx)).toBe('https://canvas.example.edu/');
    expect(iriOf('urn:uuid:90427be7-2a12-454d-8271-956d7b9dea76', ctx)).toBe('urn:uuid:90427be7-2a12-454d-8271-956d7b9dea76');
    expect(iriOf('urn:tag:auto-attach', ctx)).toBe('urn:tag:auto-attach');
  });

  it('a Canvas page named by http is the same page over https; an http referrer elsewhere stays in the extensions', () => {
    const raw = example('rubric_assessed.json');
    expect(raw.metadata.referrer).toMatch(/^http:\/\/oxana\.instructure\.com\//);
    const event = map(raw, 'caliper-1.2', { iri: { style: 'https' } }).data[0] as Record<string, any>;
    expect(event.referrer).toBe(String(raw.metadata.referrer).replace(/^http:/, 'https:'));
    raw.metadata.referrer = 'http://elsewhere.example/page';
    const elsewhere = map(raw, 'caliper-1.2', { iri: { style: 'https' } }).data[0] as Record<string, any>;
    expect(elsewhere.referrer).toBeUndefined();
    expect(elsewhere.extensions['com.instructure.canvas'].referrer).toBe('http://elsewhere.example/page');
    // The urn style leaves it as Canvas sent it.
    expect((map(raw, 'caliper-1.2').data[0] as Record<string, any>).referrer).toBe('http://elsewhere.example/page');
  });

  it('CALIPER_IRI_HOST names the host whatever the event says, and a job without a hostname', () => {
    const job = iriContext({ root_account_id: '21070000000000001' } as never, { style: 'https', host: 'canvas.school.edu' });
    expect(iriOf('urn:instructure:canvas:course:565', job)).toBe('https://canvas.school.edu/courses/21070000000000565');
  });

  it.each(FORMATS)('%s: valid, and the sensor and edApp are https too', (format) => {
    for (const [file, raw] of examples) {
      const envelope = map(raw, format, { iri: { style: 'https' } });
      expect(validateEnvelope(envelope, format === 'instructure' ? {} : { format }), file).toEqual({ ok: true });
      expect(strings(envelope).filter((s) => /^(http:|urn:instructure)/.test(s)), file).toEqual([]);
    }
  });
});

describe('CALIPER_EVENT_TYPES', () => {
  it('a Type or a Type.Action; another event is skipped once mapped, labelled with its Type.Action', () => {
    const filter = caliperTypeFilter(['SessionEvent', 'GradeEvent.Graded']);
    expect([filter('SessionEvent', 'LoggedOut'), filter('GradeEvent', 'Graded'), filter('GradeEvent', 'Other'), filter('ViewEvent', 'Viewed')]).toEqual([true, true, false, false]);
    const skipped = (() => {
      try {
        map(example('asset_accessed.01.json'), 'caliper-1.2', { caliperTypes: filter });
      } catch (err) {
        return err as SkippedEvent;
      }
    })();
    expect(skipped).toBeInstanceOf(SkippedEvent);
    expect(skipped!.label).toBe('NavigationEvent.NavigatedTo');
    // In Instructure's format too (its fast path), by the type it publishes.
    expect(() => map(example('asset_accessed.01.json'), 'instructure', { caliperTypes: filter })).toThrow(SkippedEvent);
    expect(map(example('logged_in.json'), 'instructure', { caliperTypes: filter }).data[0].type).toBe('SessionEvent');
  });

  it('the worker deletes such a message unpublished, counted by its Type.Action (readMessage)', () => {
    const options = mapOptions(loadConfig({ ...BASE, CALIPER_FORMAT: 'caliper-1.2', CALIPER_EVENT_TYPES: 'SessionEvent', CALIPER_NAVIGATION: 'view' }));
    const message = { MessageId: 'm', Body: JSON.stringify(example('asset_accessed.01.json')) };
    expect(readMessage(message, eventFilter(), options)).toEqual({ skipped: 'asset_accessed', label: 'ViewEvent.Viewed' });
    expect(readMessage({ MessageId: 'n', Body: JSON.stringify(example('logged_in.json')) }, eventFilter(), options)).toMatchObject({ eventName: 'logged_in' });
  });
});

describe('an envelope already in Caliper (Canvas’s “Caliper IMS” format), passed through', () => {
  const envelope = () => map(example('logged_in.json'), 'caliper-1.2');
  it('CALIPER_EVENT_TYPES applies to it by its type; the map and https IRIs refuse it (they need the raw event)', () => {
    expect(mapInput(envelope(), { format: 'caliper-1.2', caliperTypes: caliperTypeFilter(['SessionEvent']) }).eventName).toBe('SessionEvent:LoggedIn');
    expect(() => mapInput(envelope(), { format: 'caliper-1.2', caliperTypes: caliperTypeFilter(['GradeEvent']) })).toThrow(SkippedEvent);
    for (const iri of [{ style: 'https' as const }, { persons: roster }]) {
      expect(() => mapInput(envelope(), { format: 'caliper-1.2', iri })).toThrow(/PERSON_ID_MAP and CALIPER_IRI=https take raw Canvas events only/);
    }
    expect(mapInput(envelope(), { format: 'caliper-1.2', iri: { style: 'urn' } }).envelope).toEqual(envelope());
  });
});

describe('replay-dlq --direct', () => {
  it('an event CALIPER_EVENT_TYPES or PERSON_ID_UNMAPPED leaves out is a MappingError to it (it stays in the DLQ, with its code)', () => {
    const body = JSON.stringify(example('asset_accessed.01.json'));
    const excluded = (() => {
      try {
        recordFor(body, { format: 'caliper-1.2', caliperTypes: caliperTypeFilter(['GradeEvent']) });
      } catch (err) {
        return err as MappingError;
      }
    })();
    expect(excluded).toBeInstanceOf(MappingError);
    expect(excluded!.code).toBe('CALIPER_TYPE_EXCLUDED');
    const empty = parsePersonMap(csv(`canvas_user_id,person_id\n9,${UUID_A}\n`), 'm');
    expect(() => recordFor(body, { iri: { persons: empty, unmapped: 'skip' } })).toThrow(expect.objectContaining({ code: 'UNMAPPED_PERSON' }));
  });
});

describe('CALIPER_NAVIGATION=view', () => {
  it('content views become ViewEvent Viewed with their profile; navigation (the default) keeps NavigationEvent', () => {
    const views = examples.filter(([f]) => f.startsWith('asset_accessed')).map(([, raw]) => map(raw, 'caliper-1.2', { formatOptions: { navigation: 'view' } }).data[0]);
    expect(views.filter((e) => e.type === 'ViewEvent' && e.action === 'Viewed').length).toBeGreaterThan(30);
    expect(views.filter((e) => e.type === 'NavigationEvent')).toEqual([]);
    expect(views.find((e) => e.object.type === 'AssignableDigitalResource')!.profile).toBe('AssignableProfile');
    for (const [, raw] of examples.filter(([f]) => f.startsWith('asset_accessed'))) {
      expect(map(raw, 'caliper-1.2').data[0].type).not.toBe('ViewEvent');
    }
  });
});

const BASE = { SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', KINESIS_STREAM_NAME: 's', AWS_REGION: 'us-east-1' };

describe('the configuration', () => {
  it('with none of the new variables, mapOptions is what it always was', () => {
    const options = mapOptions(loadConfig(BASE));
    expect(options).toEqual({ eventId: 'deterministic', format: 'instructure', formatOptions: { edAppId: undefined, session: undefined }, privacy: undefined });
  });

  it.each([
    [{ PERSON_ID_MAP: '/x.csv', PRIVACY: 'pseudonymise', PRIVACY_KEY: 'a'.repeat(64) }, /PERSON_ID_MAP cannot be combined with PRIVACY=pseudonymise: the map pairs Canvas user ids/],
    [{ PERSON_ID_UNMAPPED: 'skip' }, /PERSON_ID_UNMAPPED is an option of PERSON_ID_MAP/],
    [{ PERSON_ID_MAP: '/x.csv', PERSON_ID_UNMAPPED: 'later' }, /PERSON_ID_UNMAPPED must be keep, skip, dlq/],
    [{ PERSON_ID_MAP: 's3://Bad_Bucket' }, /PERSON_ID_MAP must be a CSV file path or s3:\/\/bucket\/key/],
    [{ CALIPER_IRI: 'http' }, /CALIPER_IRI must be urn or https/],
    [{ CALIPER_IRI_HOST: 'canvas.example.edu' }, /CALIPER_IRI_HOST is an option of CALIPER_IRI=https/],
    [{ CALIPER_IRI: 'https', CALIPER_IRI_HOST: 'https://canvas.example.edu/' }, /CALIPER_IRI_HOST must be a host name/],
    [{ CALIPER_EVENT_TYPES: 'ViewEvent,Graded,GradeEvent.Viewd' }, /CALIPER_EVENT_TYPES: not a Caliper event type or Type.Action: Graded, GradeEvent.Viewd/],
    [{ CALIPER_NAVIGATION: 'view' }, /CALIPER_NAVIGATION is an option of CALIPER_FORMAT=caliper-1.2/],
    [{ CALIPER_FORMAT: 'caliper-1.2', CALIPER_IRI: 'https', CALIPER_EDAPP_ID: 'urn:uuid:0A0B0C0D-0000-4000-8000-000000000001' }, /with CALIPER_IRI=https, CALIPER_EDAPP_ID must be an https:\/\/ IRI or urn:uuid:<uuid> in lower case/],
    [{ CALIPER_FORMAT: 'caliper-1.2', CALIPER_IRI: 'https', CALIPER_EDAPP_ID: 'http://platform.example/app' }, /CALIPER_EDAPP_ID must be an https:\/\/ IRI/],
    [{ CALIPER_FORMAT: 'caliper-1.2', CALIPER_NAVIGATION: 'views' }, /CALIPER_NAVIGATION must be navigation or view/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({ ...BASE, ...env })).toThrow(message);
  });

  it('TimeBack’s variables give TimeBack’s options', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'person-map-'));
    const file = path.join(tmp, 'm.csv');
    fs.writeFileSync(file, rosterCsv);
    const config = await withPersonMap(
      loadConfig({ ...BASE, CALIPER_FORMAT: 'caliper-1.2', CALIPER_EDAPP_ID: EDAPP, CALIPER_SESSION: 'auto-attach', CALIPER_IRI: 'https', PERSON_ID_MAP: file, CALIPER_EVENT_TYPES: TIMEBACK_TYPES.join(','), CALIPER_NAVIGATION: 'view' }),
    );
    const options = mapOptions(config);
    expect(options.iri).toMatchObject({ style: 'https', unmapped: 'dlq' });
    const envelope = mapEvent(example('grade_change.json'), options);
    expect((envelope.data[0].actor as { id: string }).id).toBe(`urn:uuid:${platformId(String(example('grade_change.json').metadata.user_id))}`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});

describe('map honours the variables, and its flags override them', () => {
  async function run(args: string[], stdin: string, env: NodeJS.ProcessEnv = {}) {
    let stdout = '';
    let stderr = '';
    const io: Io = {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      stdin: () => [stdin],
      env,
    };
    const code = await main(['map', ...args], io);
    return { code, stdout, stderr };
  }
  let file: string;
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'person-map-'));
    file = path.join(tmp, 'm.csv');
    fs.writeFileSync(file, rosterCsv);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const grade = () => JSON.stringify(example('grade_change.json'));
  const view = () => JSON.stringify(example('asset_accessed.01.json'));

  it('--person-map, --iri, --caliper-types, --navigation', async () => {
    const out = await run(['--format', 'caliper-1.2', '--send-time', SEND_TIME, '--person-map', file, '--iri', 'https', '--caliper-types', 'GradeEvent,ViewEvent', '--navigation', 'view'], `${grade()}\n${view()}\n${JSON.stringify(example('logged_in.json'))}\n`);
    expect(out.stderr).toBe('mapped 2 · refused 0 · skipped 1\n');
    expect(out.code).toBe(0);
    const events = out.stdout.trim().split('\n').map((l) => JSON.parse(l).data[0]);
    expect(events.map((e) => e.type)).toEqual(['GradeEvent', 'ViewEvent']);
    expect(events[0].actor.id).toMatch(/^urn:uuid:/);
    expect(events[0].group.id).toMatch(/^https:\/\/oxana.instructure.com\/courses\//);
  });

  it('the variables, as the worker reads them; a flag over its variable', async () => {
    const env = { PERSON_ID_MAP: file, CALIPER_IRI: 'https', CALIPER_EVENT_TYPES: 'ViewEvent' };
    const byEnv = await run(['--format', 'caliper-1.2', '--send-time', SEND_TIME], `${grade()}\n`, env);
    expect([byEnv.code, byEnv.stdout]).toEqual([0, '']);
    const flag = await run(['--format', 'caliper-1.2', '--send-time', SEND_TIME, '--caliper-types', 'GradeEvent', '--iri', 'urn'], `${grade()}\n`, env);
    const event = JSON.parse(flag.stdout).data[0];
    expect(event.actor.id).toMatch(/^urn:uuid:/);
    expect(event.group.id).toMatch(/^urn:instructure:canvas:course:/);
  });

  it('an unmapped person is reported UNMAPPED_PERSON (exit 1); bad values are usage errors (exit 2)', async () => {
    const partial = path.join(tmp, 'partial.csv');
    fs.writeFileSync(partial, `canvas_user_id,person_id\n1,${UUID_A}\n`);
    const out = await run(['--person-map', partial], `${grade()}\n`);
    expect(out.code).toBe(1);
    const [report, tally] = out.stderr.trim().split('\n');
    expect(JSON.parse(report!)).toMatchObject({ event_name: 'grade_change', error_code: 'UNMAPPED_PERSON' });
    expect(tally).toBe('mapped 0 · refused 1 · skipped 0');
    expect((await run(['--person-map', partial], `${grade()}\n`, { PERSON_ID_UNMAPPED: 'skip' })).code).toBe(0);
    for (const args of [['--iri', 'http'], ['--navigation', 'view'], ['--caliper-types', 'Nope'], ['--person-map', path.join(tmp, 'none.csv')], ['--person-map', file, '--privacy', 'drop']]) {
      const bad = await run(args, `${grade()}\n`, { PRIVACY_KEY: 'a'.repeat(64) });
      expect(bad.code, args.join(' ')).toBe(2);
    }
    expect((await run(['--navigation', 'view'], '')).stderr).toMatch(/CALIPER_NAVIGATION is an option of CALIPER_FORMAT=caliper-1.2 \(map: --format caliper-1.2\)/);
    expect((await run([], '', { CALIPER_NAVIGATION: 'view' })).code).toBe(2);
    const upper = await run(['--format', 'caliper-1.2', '--iri', 'https', '--edapp-id', 'urn:uuid:0A0B0C0D-0000-4000-8000-000000000001'], '');
    expect([upper.code, upper.stderr]).toEqual([2, expect.stringMatching(/CALIPER_EDAPP_ID \(map: --edapp-id\) must be an https:\/\/ IRI or urn:uuid:<uuid> in lower case/)]);
    expect((await run(['--format', 'caliper-1.2'], `${view()}\n`, { CALIPER_NAVIGATION: 'view' })).stdout).toMatch(/"type":"ViewEvent"/);
  });
});

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
