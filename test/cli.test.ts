import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closest, editDistance } from '../src/args.js';
import { main, type Io } from '../src/cli.js';
import { MAPPERS } from '../mappers/index.js';
import { SEND_TIME, userEvent } from './helpers.js';

const root = path.join(import.meta.dirname, '..');

async function run(argv: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [stdin] };
  const code = await main(argv, io);
  const parse = (lines: string[]): any[] => lines.filter(Boolean).map((l) => JSON.parse(l));
  return {
    code,
    stdout,
    stderr,
    get lines() {
      return parse(stdout.split('\n'));
    },
    /** map's error lines on stderr (JSON), without its last line, the tally. */
    get errors() {
      return parse(stderr.split('\n').filter((l) => l.startsWith('{')));
    },
    get tally() {
      return stderr.trimEnd().split('\n').at(-1);
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
    expect(r.stderr).toBe(`mapped ${r.lines.length} · refused 0 · skipped 0\n`);
    expect(r.code).toBe(0);
    const types = new Set(r.lines.map((l) => l.data[0].type));
    expect(r.lines.length).toBeGreaterThanOrEqual(72);
    expect(types).toEqual(new Set(['Event', 'NavigationEvent', 'AssignableEvent', 'GradeEvent', 'MessageEvent', 'ThreadEvent', 'SessionEvent', 'AssessmentEvent']));
  });
});

describe('canvas-caliper events and --help', () => {
  it('lists every event type with type, action, object types (an array) and whether it is Instructure’s or ours', async () => {
    const r = await run(['events', '--json']);
    expect(r.lines).toHaveLength(MAPPERS.size);
    expect(r.lines).toContainEqual({ event_name: 'quiz_submitted', type: 'AssessmentEvent', action: 'Submitted', object: ['Attempt'], origin: 'instructure' });
    expect(r.lines.find((l) => l.event_name === 'asset_accessed').object).toEqual(['Entity', 'AssignableDigitalResource', 'Thread', 'Page']);
    expect(r.lines.filter((l) => l.origin === 'instructure')).toHaveLength(32);
    const table = await run(['events']);
    expect(table.stdout).toMatch(/^grade_change\s+GradeEvent\s+Graded\s+instructure\s+Attempt$/m);
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`canvas-caliper ${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version}\n`);
  });

  it("an unknown option points to that command's --help", async () => {
    const r = await run(['map', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Run 'canvas-caliper map --help' for usage.");
    expect((await run(['events', '--nope'])).stderr).toContain("Run 'canvas-caliper events --help' for usage.");
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

describe('canvas-caliper map: every input line stands alone', () => {
  const good = (id: string) => JSON.stringify(page(id));

  it('maps the good NDJSON lines and reports each bad one with its line number', async () => {
    const input = [good('1'), 'GARBAGE', 'null', '42', `[${good('9')}]`, `   ${good('2')}`, '', good('3'), good('4')].join('\n');
    const r = await run(['map'], input);
    expect(r.code).toBe(1);
    expect(pageIds(r.lines)).toEqual(['1', '2', '3', '4']);
    expect(r.errors.map((e) => [e.line, e.position, e.error_code])).toEqual([
      [2, 2, 'INVALID_JSON'],
      [3, 3, 'NOT_AN_OBJECT'],
      [4, 4, 'NOT_AN_OBJECT'],
      [5, 5, 'NOT_AN_OBJECT'],
    ]);
    expect(r.errors[3].error).toBe('an NDJSON line must hold one event object, not an array');
  });

  it('a UTF-8 byte order mark and CRLF line ends are read as text, not as errors', async () => {
    const r = await run(['map'], `\uFEFF${good('1')}\r\n${good('2')}\r\n`);
    expect(r.stderr).toBe('mapped 2 · refused 0 · skipped 0\n');
    expect(pageIds(r.lines)).toEqual(['1', '2']);
  });

  it('invalid UTF-8 on a line is that line’s error, never a silent U+FFFD', async () => {
    let stdout = '';
    let stderr = '';
    const bad = Buffer.concat([Buffer.from(good('2').slice(0, -3)), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [Buffer.from(`${good('1')}\n`), bad, Buffer.from(`\n${good('3')}\n`)] };
    expect(await main(['map'], io)).toBe(1);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(2);
    const [error, tally] = stderr.trimEnd().split('\n');
    expect(JSON.parse(error!)).toMatchObject({ line: 2, error_code: 'INVALID_JSON', error: 'invalid UTF-8 on line 2' });
    expect(tally).toBe('mapped 2 · refused 1 · skipped 0');
  });

  it('concatenated pretty-printed objects (cat a.json b.json) map one by one', async () => {
    const r = await run(['map'], `${JSON.stringify(page('1'), null, 2)}\n${JSON.stringify(page('2'), null, 2)}\n`);
    expect(r.errors).toEqual([]);
    expect(pageIds(r.lines)).toEqual(['1', '2']);
  });

  it('a pretty-printed document that is not valid JSON gets an error that says what the input may be', async () => {
    const r = await run(['map'], `${JSON.stringify(page('1'), null, 2)}\n{\n  "metadata": oops\n}\n`);
    expect(pageIds(r.lines)).toEqual(['1']);
    expect(r.errors).toEqual([
      expect.objectContaining({ position: 2, line: expect.any(Number), error_code: 'INVALID_JSON', error: expect.stringContaining('input must be NDJSON — one event per line —, a JSON object, a JSON array, or JSON objects one after another') }),
    ]);
  });

  it('an SNS notification is unwrapped and a Caliper envelope passed through, as the worker does', async () => {
    const caliper = (await run(['map', '--send-time', SEND_TIME], good('1'))).lines[0];
    const sns = { Type: 'Notification', MessageId: 'm-1', Message: good('1') };
    const r = await run(['map', '--send-time', SEND_TIME], `${JSON.stringify(sns)}\n${JSON.stringify(caliper)}\n`);
    expect(r.errors).toEqual([]);
    expect(r.lines).toEqual([caliper, caliper]);
  });
});

describe('canvas-caliper map through real pipes', () => {
  const bin = path.join(root, 'bin/canvas-caliper.js');
  const sh = (script: string) => promisify(execFile)('bash', ['-c', `set -o pipefail; ${script}`], { maxBuffer: 1 << 20 });
  let dir: string;
  let many: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-pipe-'));
    many = path.join(dir, 'many.ndjson');
    const block = fs.readFileSync(path.join(root, 'samples/asset_accessed.ndjson'), 'utf8');
    fs.writeFileSync(many, block.repeat(Math.ceil(20_000 / block.trim().split('\n').length)));
  });

  it('20,000 events reach a slow reader whole, and the exit code is 0', async () => {
    const events = fs.readFileSync(many, 'utf8').trim().split('\n').length;
    expect(events).toBeGreaterThanOrEqual(20_000);
    const { stdout } = await sh(`node ${bin} map ${many} | (sleep 1; wc -l)`);
    expect(Number(stdout.trim())).toBe(events);
  }, 60_000);

  it('every error line reaches a slow reader of stderr, and the exit code is 1', async () => {
    const bad = path.join(dir, 'bad.ndjson');
    fs.writeFileSync(bad, 'GARBAGE\n'.repeat(5_000));
    const result = await sh(`node ${bin} map ${bad} 2>&1 >/dev/null | (sleep 1; wc -l)`).catch((err) => err);
    expect(result.code).toBe(1);
    // Every error line, and the tally after them.
    expect(Number(result.stdout.trim())).toBe(5_001);
  }, 60_000);

  it('| head ends quietly with exit 0', async () => {
    const { stdout, stderr } = await sh(`node ${bin} map ${many} | head -n 2`);
    expect(stdout.trim().split('\n')).toHaveLength(2);
    expect(stderr).toBe('');
  }, 60_000);

  it('output starts before the input ends (NDJSON is streamed)', async () => {
    const child = spawn(process.execPath, [bin, 'map'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write(`${JSON.stringify(page('1'))}\n`);
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    expect(JSON.parse(first).data[0].object.extensions['com.instructure.canvas'].entity_id).toBe('1');
    child.stdin.end(`${JSON.stringify(page('2'))}\n`);
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  });
});

describe('canvas-caliper map: which event types flow', () => {
  const lines = [page('1'), userEvent('module_created', { module_id: '5', name: 'Week 1' }), userEvent('course_archived', {})].map((e) => JSON.stringify(e)).join('\n');
  const names = (r: Awaited<ReturnType<typeof run>>) => r.lines.map((l) => l.data[0].object.id);

  it('--only maps only the named types; --exclude skips the named ones; skipped events are no error', async () => {
    const only = await run(['map', '--only', 'module_created'], lines);
    expect(names(only)).toEqual(['urn:instructure:canvas:context_module:5']);
    expect(only.code).toBe(0);
    const exclude = await run(['map', '--exclude', 'wiki_page_created,module_created'], lines);
    expect(names(exclude)).toEqual([]);
    expect(exclude.errors.map((e) => e.error_code)).toEqual(['UNKNOWN_EVENT']);
  });

  it('--unknown skip leaves out an event_name no mapper handles; the default reports it', async () => {
    const skip = await run(['map', '--unknown', 'skip'], lines);
    expect(skip.code).toBe(0);
    expect(skip.stderr).toBe('mapped 2 · refused 0 · skipped 1\n');
    expect(names(skip)).toHaveLength(2);
    const report = await run(['map'], lines);
    expect(report.code).toBe(1);
    expect(report.errors).toEqual([expect.objectContaining({ line: 3, event_name: 'course_archived', error_code: 'UNKNOWN_EVENT' })]);
  });

  it('an event type we do not map in --only or --exclude is a usage error', async () => {
    const r = await run(['map', '--only', 'wiki_page_created,no_such_type'], lines);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--only: not an event type we map: no_such_type (run 'canvas-caliper events')");
  });
});

describe('what an operator meets at the command line (issue 26, item 15), through bin/ as a shell runs it', () => {
  const bin = path.join(root, 'bin/canvas-caliper.js');
  /** bash -c SCRIPT with pipefail; the exit code, stdout and stderr whatever the outcome. */
  const sh = (script: string, input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile('bash', ['-c', `set -o pipefail; ${script}`], { maxBuffer: 1 << 22 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
      child.stdin!.end(input ?? '');
    });
  const cli = (args: string) => `node ${bin} ${args}`;
  /** Every line of a message has its quotes paired (Node's stock parseArgs message did not). */
  const balanced = (text: string) => text.split('\n').every((line) => (line.match(/'/g) ?? []).length % 2 === 0);
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-operator-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a mistyped option or command gets our message, every unknown option at once, with what was likely meant (exit 2, stderr only)', async () => {
    const map = await sh(cli('map --sned-time 2020-01-01T00:00:00Z --prety --nothing-like-it samples/logged_in.json'));
    expect(map).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        'canvas-caliper map: 3 problems:',
        "  unknown option '--sned-time'; did you mean '--send-time'?",
        "  unknown option '--prety'; did you mean '--pretty'?",
        "  unknown option '--nothing-like-it'",
        "Run 'canvas-caliper map --help' for usage.",
        '',
      ].join('\n'),
    });
    const events = await sh(cli('events --jsno'));
    expect(events).toEqual({ code: 2, stdout: '', stderr: "canvas-caliper: unknown option '--jsno'; did you mean '--json'?\nRun 'canvas-caliper events --help' for usage.\n" });
    const command = await sh(cli('mpa samples/logged_in.json'));
    expect(command).toEqual({ code: 2, stdout: '', stderr: "canvas-caliper: unknown command 'mpa'; did you mean 'map'?\nRun 'canvas-caliper --help' for usage.\n" });
    const replay = await sh(cli('replay-dlq --dry-rn'));
    expect(replay.stderr).toContain("unknown option '--dry-rn'; did you mean '--dry-run'?");
    const short = await sh(cli('map -x'));
    expect(short.stderr).toContain("unknown option '-x'\n");
    for (const r of [map, events, command, replay, short]) expect(balanced(r.stderr)).toBe(true);
  }, 30_000);

  it("help COMMAND prints that command's own help, as COMMAND --help does", async () => {
    for (const command of ['map', 'events', 'run', 'serve', 'healthcheck', 'replay-dlq']) {
      const viaHelp = await run(['help', command]);
      const viaFlag = await run([command, '--help']);
      expect({ command, code: viaHelp.code, stdout: viaHelp.stdout }).toEqual({ command, code: 0, stdout: viaFlag.stdout });
      expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: canvas-caliper ${command}`));
    }
    const child = await sh(cli('help map'));
    expect(child.code).toBe(0);
    expect(child.stdout).toMatch(/^Usage: canvas-caliper map \[options\] \[FILE\.\.\.\]/);
    expect(await sh(cli('help mpa'))).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining("unknown command 'mpa'; did you mean 'map'?") });
  }, 30_000);

  it('map ends with a tally on stderr (mapped · refused · skipped); stdout stays pure NDJSON', async () => {
    const file = path.join(dir, 'mixed.ndjson');
    const lines = [page('1'), page('2'), userEvent('course_archived', {}), userEvent('module_created', { module_id: '5', name: 'Week 1' })].map((e) => JSON.stringify(e));
    fs.writeFileSync(file, [...lines, 'GARBAGE'].join('\n'));
    const r = await sh(cli(`map --exclude module_created ${file}`));
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).data[0].object.name)).toEqual(['Page 1', 'Page 2']);
    const stderr = r.stderr.trimEnd().split('\n');
    expect(stderr.slice(0, -1).map((l) => JSON.parse(l).error_code)).toEqual(['UNKNOWN_EVENT', 'INVALID_JSON']);
    expect(stderr.at(-1)).toBe('mapped 2 · refused 2 · skipped 1');
    // With every event mapped, the tally is the only stderr line.
    expect(await sh(cli('map samples/logged_in.json'))).toMatchObject({ code: 0, stderr: 'mapped 1 · refused 0 · skipped 0\n' });
  }, 30_000);

  it('a gzipped input is read as if decompressed (file or stdin); another compression, a cut gzip or binary data is one error naming the input', async () => {
    const plain = path.join(root, 'samples/asset_accessed.ndjson');
    const gz = path.join(dir, 'events.ndjson.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(plain)));
    const expected = await sh(cli(`map --send-time 2020-01-01 ${plain}`));
    const fromFile = await sh(cli(`map --send-time 2020-01-01 ${gz}`));
    const fromStdin = await sh(`${cli('map --send-time 2020-01-01')} < ${gz}`);
    expect(expected.stdout.split('\n').length).toBeGreaterThan(40);
    expect(fromFile).toEqual(expected);
    expect(fromStdin).toEqual(expected);

    const cut = path.join(dir, 'cut.ndjson.gz');
    fs.writeFileSync(cut, fs.readFileSync(gz).subarray(0, 2_000));
    const binary = path.join(dir, 'image.bin');
    fs.writeFileSync(binary, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), Buffer.alloc(5_000, '\n{x')]));
    const zstd = path.join(dir, 'events.ndjson.zst');
    fs.writeFileSync(zstd, Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(3_000, 'ab\n')]));
    for (const [file, error] of [
      [binary, 'the input is not text (a NUL byte at byte 9): map reads NDJSON or JSON in UTF-8, or gzip of them'],
      [zstd, 'the input is zstd-compressed: decompress it first (zstd -dc FILE | canvas-caliper map)'],
      [cut, expect.stringMatching(/^the input is gzip, but its data is invalid: unexpected end of file/)],
    ] as const) {
      const r = await sh(cli(`map ${file}`));
      expect(r.code).toBe(1);
      const stderr = r.stderr.trimEnd().split('\n');
      const errors = stderr.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      expect(errors).toEqual([{ input: file, error_code: 'READ_ERROR', error }]);
      expect(stderr.at(-1)).toMatch(/^mapped \d+ · refused 1 · skipped 0$/);
    }
  }, 30_000);

  it('--send-time takes a date alone as midnight UTC; anything else that is not a time is refused with the accepted forms', async () => {
    const date = await sh(cli('map --send-time 2024-01-02 samples/logged_in.json'));
    expect(date.code).toBe(0);
    expect(JSON.parse(date.stdout).sendTime).toBe('2024-01-02T00:00:00.000Z');
    for (const bad of ['soon', '2024-02-30', '02/01/2024']) {
      const r = await sh(cli(`map --send-time ${bad} samples/logged_in.json`));
      expect({ bad, code: r.code, stdout: r.stdout }).toEqual({ bad, code: 2, stdout: '' });
      expect(r.stderr).toContain('give one of 2024-01-02 (midnight UTC), 2024-01-02T03:04:05Z, 2024-01-02T03:04:05.678+02:00 (no zone: UTC)');
    }
  }, 30_000);

  it('events and map into /dev/full end with one error line and exit 74, no stack', async () => {
    const line = 'canvas-caliper: cannot write to stdout: ENOSPC (no space left on the device); the output is incomplete\n';
    for (const args of ['events', 'events --json', 'map samples/logged_in.json', `map ${path.join(root, 'samples/asset_accessed.ndjson')}`]) {
      expect({ args, ...(await sh(`${cli(args)} > /dev/full`)) }).toEqual({ args, code: 74, stdout: '', stderr: line });
    }
  }, 30_000);

  it('events | head -1 ends quietly, exit 0, with no listener warning', async () => {
    for (const args of ['events', 'events --json']) {
      const r = await sh(`${cli(args)} | head -1`);
      expect({ args, code: r.code, stderr: r.stderr, lines: r.stdout.split('\n').length }).toEqual({ args, code: 0, stderr: '', lines: 2 });
    }
  }, 30_000);
});

describe('what the user likely meant (src/args.ts)', () => {
  it('one typo away (a swap of neighbours counts as one), or the only option the typed text begins', () => {
    expect([editDistance('kitten', 'sitting'), editDistance('mpa', 'map'), editDistance('--jsno', '--json'), editDistance('', 'abc')]).toEqual([3, 1, 1, 3]);
    const map = ['--pretty', '--event-id', '--send-time', '--format', '--edapp-id', '--session', '--privacy', '--only', '--exclude', '--unknown', '--post', '--help'];
    expect(['--send', '--sendtime', '--prety', '--pots', '--formta'].map((t) => closest(t, map))).toEqual(['--send-time', '--send-time', '--pretty', '--post', '--format']);
  });

  it('no guess when nothing is near, or when two are equally near (a coin toss)', () => {
    expect(closest('--colour', ['--json', '--help'])).toBeUndefined();
    expect(closest('--fob', ['--foo', '--fox'])).toBeUndefined();
    expect(closest('x', ['map', 'run'])).toBeUndefined();
  });
});
