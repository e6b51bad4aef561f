// The example envelopes in docs/format-*.md are real output: each page's `map` command, run here through
// the CLI, prints exactly the JSON the page shows.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../src/cli.js';

const root = path.join(import.meta.dirname, '..');
const pages = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.startsWith('format-') && f.endsWith('.md'));

describe('docs/format-*.md examples', () => {
  it('there is a page per output format', () => expect(pages.sort()).toEqual(['format-caliper-1.1.md', 'format-caliper-1.2.md', 'format-instructure.md']));

  it.each(pages)('%s: its map command prints the envelope it shows', async (page) => {
    const text = fs.readFileSync(path.join(root, 'docs', page), 'utf8');
    const command = /```sh\nnode bin\/canvas-caliper\.js (map [^\n]+)\n```/.exec(text)![1]!;
    const shown = /```json\n([\s\S]*?)\n```/.exec(text)![1]!;
    let stdout = '';
    let stderr = '';
    const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stdin: () => [] };
    const argv = command.split(' ').map((a) => (a.startsWith('samples/') ? path.join(root, a) : a));
    expect(await main(argv, io)).toBe(0);
    expect(stdout.trimEnd()).toBe(shown);
    // stderr holds nothing but map's tally: no report of an event it could not map.
    expect(stderr).toBe('mapped 1 · refused 0 · skipped 0\n');
  });
});
