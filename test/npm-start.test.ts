// `npm start` (run with no SQS_QUEUE_URL: embedded local services and the samples) leaves nothing behind
// in the temporary directory — after a full run, and when stopped by a signal — and keeps what it read
// back only where --output asks (issue 26, item 17).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, startCli } from './local.js';

const made: string[] = [];
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** The environment of `npm start` with its own, empty temporary directory (os.tmpdir() reads TMPDIR). */
function embedded(): { env: NodeJS.ProcessEnv; tmp: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-npm-start-'));
  made.push(dir);
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', TMPDIR: tmp };
  for (const name of ['SQS_QUEUE_URL', 'SINK', 'CALIPER_ENDPOINT_URL']) delete env[name];
  return { env, tmp, dir };
}

describe('npm start leaves nothing behind', () => {
  it('a full run: the temporary directory is as it was; --output FILE holds every envelope read back', async () => {
    const { env, tmp, dir } = embedded();
    const output = path.join(dir, 'caliper.ndjson');
    const cli = startCli(['run', '--output', output], env);
    expect(await exited(cli)).toBe(0);
    expect(fs.readdirSync(tmp)).toEqual([]);
    const lines = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
    expect(cli.out.stdout).toContain(`Read back ${lines.length} Caliper envelopes from the stream:`);
    expect(new Set(lines.map((l) => JSON.parse(l).data[0].type)).size).toBeGreaterThan(5);
    expect(cli.out.stdout).toContain(`Full Caliper output (one envelope per line): ${output}\n`);
  }, 90_000);

  it('stopped by a signal, and stopped at once by a second: the temporary directory is as it was', async () => {
    const { env, tmp } = embedded();
    const once = startCli(['run'], env);
    await new Promise<void>((resolve) => once.stdout!.on('data', () => once.out.stdout.includes('Enqueued') && resolve()));
    once.kill('SIGINT');
    expect(await exited(once)).toBe(0);
    expect(once.out.stdout).toContain('Full Caliper output: not kept (npm start -- --output FILE writes it, one envelope per line).');
    expect(fs.readdirSync(tmp)).toEqual([]);

    const twice = startCli(['run'], env);
    await new Promise<void>((resolve) => twice.stdout!.on('data', () => twice.out.stdout.includes('Enqueued') && resolve()));
    twice.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 50)); // two signals at once could reach it as one
    twice.kill('SIGINT');
    expect(await exited(twice)).toBe(130);
    expect(fs.readdirSync(tmp)).toEqual([]);
  }, 90_000);

  it('--output is checked before anything starts, and only for the embedded run (exit 2)', async () => {
    const { env, dir } = embedded();
    const nowhere = startCli(['run', '--output', path.join(dir, 'no-such-folder', 'out.ndjson')], env);
    expect(await exited(nowhere)).toBe(2);
    expect(nowhere.out.stderr).toMatch(/^canvas-caliper run: --output .*out\.ndjson: cannot be written \(ENOENT on .*no-such-folder\)\n$/);
    const folder = startCli(['run', '--output', dir], env);
    expect(await exited(folder)).toBe(2);
    expect(folder.out.stderr).toBe(`canvas-caliper run: --output ${dir}: is a folder: name a file\n`);
    const deployed = startCli(['run', '--output', path.join(dir, 'out.ndjson')], { ...env, SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q', AWS_REGION: 'us-east-1', KINESIS_STREAM_NAME: 's' });
    expect(await exited(deployed)).toBe(2);
    expect(deployed.out.stderr).toMatch(/^canvas-caliper run: --output \S+: applies to the embedded run \(no SQS_QUEUE_URL, NODE_ENV not production\)\n$/);
  }, 30_000);
});
