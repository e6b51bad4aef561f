import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../src/cli.js';
import { SEND_TIME, userEvent } from './helpers.js';

const root = path.join(import.meta.dirname, '..');

async function run(argv: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: async () => stdin };
  const code = await main(argv, io);
  const parse = (text: string): any[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return {
    code,
    stdout,
    stderr,
    get lines() {
      return parse(stdout);
    },
    get errors() {
      return parse(stderr);
    },
  };
}

const page = (id: string) => userEvent('wiki_page_created', { wiki_page_id: id, title: `Page ${id}` });
const pageIds = (lines: any[]) => lines.map((l) => l.data[0].object.extensions['com.instructure.canvas'].entity_id);

describe('canvas-caliper map', () => {
  it('maps a single JSON object from stdin to one NDJSON envelope', async () => {
    const r = await run(['map', '--send-time', SEND_TIME], JSON.stringify(page('1')));
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.lines[0]).toMatchObject({ sensor: 'http://oxana.instructure.com/', sendTime: SEND_TIME, dataVersion: 'http://purl.imsglobal.org/ctx/caliper/v1p1' });
  });

  it('maps a JSON array and NDJSON in input order', async () => {
    const array = await run(['map'], JSON.stringify([page('1'), page('2'), page('3')]));
    expect(pageIds(array.lines)).toEqual(['1', '2', '3']);
    const ndjson = await run(['map', '-'], [page('3'), page('1'), page('2')].map((p) => JSON.stringify(p)).join('\n'));
    expect(pageIds(ndjson.lines)).toEqual(['3', '1', '2']);
  });

  it('reports what it cannot map on stderr, maps the rest, and exits 1', async () => {
    const input = [JSON.stringify(page('1')), '{"metadata": oops', JSON.stringify(userEvent('no_such_event', {})), JSON.stringify(page('4'))].join('\n');
    const r = await run(['map'], input);
    expect(r.code).toBe(1);
    expect(pageIds(r.lines)).toEqual(['1', '4']);
    expect(r.errors).toEqual([
      { input: 'stdin', position: 2, line: 2, error_code: 'INVALID_JSON', error: expect.stringMatching(/^invalid JSON: /) },
      { input: 'stdin', position: 3, line: 3, event_name: 'no_such_event', error_code: 'UNKNOWN_EVENT', error: 'event no_such_event: unsupported event_name (run `canvas-caliper events` for the supported ones)' },
    ]);
  });

  it('reads several files, reports one it cannot read, and keeps going', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-'));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(page('1'), null, 2));
    fs.writeFileSync(path.join(dir, 'b.ndjson'), `${JSON.stringify(page('2'))}\n${JSON.stringify(page('3'))}\n`);
    const r = await run(['map', path.join(dir, 'a.json'), path.join(dir, 'missing.json'), path.join(dir, 'b.ndjson')]);
    expect(r.code).toBe(1);
    expect(pageIds(r.lines)).toEqual(['1', '2', '3']);
    expect(r.errors[0]).toMatchObject({ input: path.join(dir, 'missing.json'), error_code: 'READ_ERROR' });
  });

  it('--pretty indents, --send-time normalises, --event-id random changes ids', async () => {
    const input = JSON.stringify(page('1'));
    const pretty = await run(['map', '--pretty', '--send-time', '2020-01-01T02:00:00+02:00'], input);
    expect(pretty.stdout).toContain('\n  "sendTime": "2020-01-01T00:00:00.000Z"');
    const det = await run(['map'], input);
    const det2 = await run(['map', '--event-id', 'deterministic'], input);
    const rnd = await run(['map', '--event-id', 'random'], input);
    expect(det2.lines[0].data[0].id).toBe(det.lines[0].data[0].id);
    expect(rnd.lines[0].data[0].id).not.toBe(det.lines[0].data[0].id);
  });

  it('usage errors exit 2 with a message', async () => {
    expect((await run(['map', '--event-id', 'sequential'])).stderr).toContain("--event-id must be deterministic or random, not 'sequential'");
    expect((await run(['map', '--send-time', 'soon'])).code).toBe(2);
    expect((await run(['map', '--nope'])).code).toBe(2);
    expect((await run(['frobnicate'])).stderr).toContain("unknown command 'frobnicate'");
  });

  it('maps every sample', async () => {
    const files = fs.readdirSync(path.join(root, 'samples')).map((f) => path.join(root, 'samples', f));
    const r = await run(['map', ...files]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const types = new Set(r.lines.map((l) => l.data[0].type));
    expect(r.lines.length).toBeGreaterThanOrEqual(72);
    expect(types).toEqual(new Set(['Event', 'NavigationEvent', 'AssignableEvent', 'GradeEvent', 'MessageEvent', 'ThreadEvent', 'SessionEvent', 'AssessmentEvent']));
  });
});

describe('canvas-caliper events and --help', () => {
  it('lists all 32 event types with type, action and object type', async () => {
    const r = await run(['events', '--json']);
    expect(r.lines).toHaveLength(32);
    expect(r.lines).toContainEqual({ event_name: 'quiz_submitted', type: 'AssessmentEvent', action: 'Submitted', object: 'Attempt' });
    const table = await run(['events']);
    expect(table.stdout).toMatch(/^grade_change\s+GradeEvent\s+Graded\s+Attempt$/m);
  });

  it.each([[['--help']], [['map', '--help']], [['events', '-h']]])('%j prints usage and exits 0', async (argv) => {
    const r = await run(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(Usage|canvas-caliper)/);
  });

  it('the installed bin runs with plain node', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'bin/canvas-caliper.js'), 'map', path.join(root, 'samples/logged_in.json')]);
    expect(JSON.parse(stdout).data[0].type).toBe('SessionEvent');
  });
});

describe('canvas-caliper run configuration', () => {
  it('with NODE_ENV=production, a missing SQS_QUEUE_URL is a fatal configuration error (exit 2)', async () => {
    const saved = { ...process.env };
    try {
      process.env.NODE_ENV = 'production';
      delete process.env.SQS_QUEUE_URL;
      const r = await run(['run']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('SQS_QUEUE_URL: is required');
    } finally {
      process.env = saved;
    }
  });

  it('names every bad variable and exits 2', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { SQS_QUEUE_URL: 'http://localhost:1/000000000000/q', AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's', POLLERS: 'many' });
      const r = await run(['run']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('POLLERS must be a number');
    } finally {
      process.env = saved;
    }
  });
});
