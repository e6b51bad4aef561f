// The production artefact, built the way the Dockerfile builds it (no Docker engine runs in CI): the
// packed package, installed with production dependencies only in a temporary folder, must run. A
// runtime dependency left in devDependencies fails here. Also checks the Dockerfile and .dockerignore
// against the repository.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, exited } from './local.js';

let app: string;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    return { code: 0, stdout: execFileSync(process.execPath, ['bin/canvas-caliper.js', ...args], { cwd: app, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
};

beforeAll(() => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'canvas-caliper-artefact-'));
  app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  // As the Dockerfile: pack the built package, unpack it, install production dependencies from the lockfile.
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, stdio: 'ignore' });
  const tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
  execFileSync('tar', ['-xzf', path.join(tmp, tarball), '--strip-components=1', '-C', app]);
  fs.copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'ignore' });
}, 240_000);
afterAll(() => {
  if (app) fs.rmSync(path.dirname(app), { recursive: true, force: true });
});

describe('production artefact (production dependencies only)', () => {
  it('holds no development dependency and no tests', () => {
    const installed = fs.readdirSync(path.join(app, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'aws-sdk-client-mock', 'local-aws-sqs', 'kinesis-local', 'aws-cdk-lib']) expect(installed).not.toContain(dev);
    expect(installed).toEqual(expect.arrayContaining(['zod', 'pino', '@aws-sdk']));
    expect(fs.existsSync(path.join(app, 'test'))).toBe(false);
    expect(fs.existsSync(path.join(app, 'infra'))).toBe(false);
  });

  it('runs --help and maps a sample', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: canvas-caliper <command>');
    const mapped = run(['map', '--send-time', '2020-01-01T00:00:00Z', 'samples/logged_in.json']);
    expect(mapped.stderr).toBe('');
    expect(mapped.code).toBe(0);
    const envelope = JSON.parse(mapped.stdout);
    expect(envelope).toMatchObject({ dataVersion: 'http://purl.imsglobal.org/ctx/caliper/v1p1', sendTime: '2020-01-01T00:00:00.000Z', data: [{ type: 'SessionEvent', action: 'LoggedIn' }] });
  });

  it('starts the worker (every runtime module loads) and stops on SIGTERM with exit 0', async () => {
    const child = spawn(process.execPath, ['bin/canvas-caliper.js', 'run'], {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/canvas-live-events',
        KINESIS_STREAM_NAME: 'canvas-caliper',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        HEALTH_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const end = Date.now() + 20_000;
    while (!out.includes('worker started') && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('worker started');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  }, 30_000);

  it('refuses to start in production without a queue (exit 2, the variable named)', () => {
    const r = run(['run'], { NODE_ENV: 'production' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SQS_QUEUE_URL');
  });

  it('replay-dlq --local says it needs the development dependencies (exit 2), not a stack', () => {
    const r = run(['replay-dlq', '--local'], { NODE_ENV: 'production' });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'canvas-caliper replay-dlq: --local needs the development dependencies (local-aws-sqs, kinesis-local): run it from a checkout after npm ci\n' });
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
  const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));

  it('is multi-stage on Node 22, runs as a non-root user, with the health check, stop signal and worker command', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:22[-.\w]*(-slim|distroless)/);
    const runtime = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));
    expect(runtime.find((l) => l.startsWith('USER '))).toMatch(/^USER (node|\d{3,})$/);
    expect(runtime).toContain('STOPSIGNAL SIGTERM');
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/CMD \["node", "bin\/canvas-caliper.js", "healthcheck"\]/);
    expect(runtime.at(-1)).toBe('CMD ["node", "bin/canvas-caliper.js", "run"]');
    expect(dockerfile.slice(dockerfile.lastIndexOf(froms.at(-1)!))).toMatch(/npm ci --omit=dev/);
  });

  it('copies only paths that exist and that .dockerignore lets through; tests, infra and local data stay out', () => {
    const sources = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(fs.existsSync(path.join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    for (const kept of ['test', 'infra', 'node_modules', 'dist', '.git', 'cdk.out']) expect(ignored).toContain(kept);
  });
});
