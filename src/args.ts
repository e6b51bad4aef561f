// A command's options: Node's parseArgs, except that every unknown option is named at once, in our own
// words, with the option the user most likely meant (Node's message names one, with unbalanced quotes).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

/**
 * Edit distance (optimal string alignment): the fewest insertions, deletions, substitutions and swaps
 * of two neighbouring characters that turn `a` into `b` — a swap is one typo (`mpa`, `--jsno`).
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) next[j] = Math.min(next[j]!, before[j - 2]! + 1);
    }
    [before, row] = [row, next];
  }
  return row[b.length]!;
}

/**
 * What the user probably meant by `typed`: the one candidate it begins (`--send` → `--send-time`), else
 * the nearest within a third of its length in edits (at least 1: `mpa` → `map`); none when the
 * nearest is farther, or shared by two candidates (a guess would then be a coin toss).
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => c.startsWith(typed));
  if (typed.length >= 2 && prefixed.length === 1) return prefixed[0];
  const scored = candidates.map((c) => ({ c, d: editDistance(typed, c) })).sort((x, y) => x.d - y.d);
  const [best, second] = scored;
  if (!best || best.d > Math.max(1, Math.floor(typed.length / 3)) || second?.d === best.d) return undefined;
  return best.c;
}

/** `; did you mean 'X'?` when there is a likely X, else nothing. */
export const didYouMean = (typed: string, candidates: readonly string[]): string => {
  const guess = closest(typed, candidates);
  return guess === undefined ? '' : `; did you mean '${guess}'?`;
};

/** parseArgs, after checking that every option is one of `config.options` (all unknown ones reported at once, exit 2). */
export function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const options = config.options ?? {};
  const { tokens } = parseArgs({ args: config.args, options, allowPositionals: true, strict: false, tokens: true });
  // A known short option comes back under its long name; an unknown one under its own.
  const unknown = tokens.flatMap((t) => (t.kind === 'option' && !Object.hasOwn(options, t.name) ? [t.rawName] : []));
  const longNames = Object.keys(options).map((o) => `--${o}`);
  if (unknown.length) throw new UsageError(unknown.map((raw) => `unknown option '${raw}'${raw.startsWith('--') ? didYouMean(raw, longNames) : ''}`));
  return parseArgs(config);
}
