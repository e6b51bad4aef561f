// The Node.js versions we support (package.json `engines`, README: Quick start) are the ones the image runs
// and CI tests, and on them the AWS SDK has no Node version warning to print. (.ci/run runs this suite on
// Node 22, and on the machine's Node, which may be 20: there the SDK's warning is expected and asserted, so
// that the check cannot pass by never seeing the warning.)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.join(import.meta.dirname, '..');
const engines = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
const [, minMajor, minMinor] = (/^>=(\d+)\.(\d+)\.\d+$/.exec(engines) ?? []).map(Number);
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const supported = major > minMajor! || (major === minMajor && minor >= minMinor!);

describe(`Node ${process.version} (engines: ${engines}; ${supported ? 'supported' : 'development only'})`, () => {
  it('engines names one floor, and the image runs that major', () => {
    expect(engines).toMatch(/^>=\d+\.\d+\.\d+$/);
    const bases = [...fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toBe(minMajor);
  });

  it(`the AWS SDK clients the worker makes print ${supported ? 'no' : 'their'} Node version warning`, async () => {
    // A fresh process, as the CLI is: the SDK warns once per process, when the first client is made.
    const script = "import { SQSClient } from '@aws-sdk/client-sqs'; import { KinesisClient } from '@aws-sdk/client-kinesis'; new SQSClient({ region: 'us-east-1' }); new KinesisClient({ region: 'us-east-1' });";
    const env = { ...process.env };
    // Neither the SDK's own opt-out nor Node's switch for all warnings may hide what is checked.
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    delete env.NODE_NO_WARNINGS;
    delete env.NODE_OPTIONS;
    const { stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env });
    if (supported) expect(stderr).not.toContain('NodeVersionSupportWarning');
    else expect(stderr).toContain('NodeVersionSupportWarning');
  });
});
