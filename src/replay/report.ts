// What replay-dlq shows: a progress bar on a terminal, a plain line every few seconds otherwise, and
// the final summary.
import type { Group, Progress, ReplaySummary } from './replay.js';

const verb = (p: Progress) => (p.mode === 'direct' ? 'published' : 'moved');

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
}

/** "340/1000 scanned · 300 moved · 2 still failing · 45.1 msg/s · ETA 0:15" */
export function progressLine(p: Progress, now = Date.now()): string {
  const elapsedS = Math.max(0.001, (now - p.startedAt) / 1000);
  const done = p.mode === 'native' ? p.handled : p.scanned;
  const rate = done / elapsedS;
  const eta = rate > 0 && p.total > done ? clock((p.total - done) / rate) : p.total > done ? '?' : '0:00';
  const parts = [
    `${done}/${p.total} ${p.mode === 'native' ? 'moved' : 'scanned'}`,
    ...(p.mode === 'native' || p.dryRun ? [] : [`${p.handled} ${verb(p)}`]),
    ...(p.failing ? [`${p.failing} ${p.dryRun ? 'would fail' : 'still failing'}`] : []),
    `${rate.toFixed(1)} msg/s`,
    `ETA ${eta}`,
  ];
  return parts.join(' · ');
}

export function progressBar(p: Progress, width = 30, now = Date.now()): string {
  const done = p.mode === 'native' ? p.handled : p.scanned;
  const fraction = p.total > 0 ? Math.min(1, done / p.total) : 1;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${progressLine(p, now)}`;
}

export interface ProgressOutput {
  write: (text: string) => void;
  isTTY?: boolean;
}

/** Shows progress: a bar redrawn in place on a terminal, else a line every `lineIntervalMs`. */
export function startProgress(out: ProgressOutput, lineIntervalMs = 5_000): { update: (p: Progress) => void; stop: () => void } {
  let latest: Progress | undefined;
  let stopped = false;
  const draw = () => {
    if (!latest) return;
    if (out.isTTY) out.write(`\r\x1b[K${progressBar(latest)}`);
    else out.write(`replay-dlq: ${progressLine(latest)}\n`);
  };
  const timer = setInterval(draw, out.isTTY ? 200 : lineIntervalMs);
  timer.unref();
  return {
    update: (p) => {
      latest = p;
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw();
      if (out.isTTY) out.write('\n');
    },
  };
}

function table(rows: string[][], indent = '  '): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n');
}

const groupRows = (groups: Group[]) => [
  ['EVENT_NAME', 'ERROR_CODE', 'COUNT', 'WOULD BECOME'],
  ...[...groups].sort((a, b) => b.count - a.count || a.eventName.localeCompare(b.eventName)).map((g) => [g.eventName, g.errorCode, String(g.count), g.outcome]),
];

/** The human summary printed at the end of a run. */
export function formatSummary(s: ReplaySummary, listLimit = 50): string {
  const lines: string[] = [];
  const mode = s.dryRun ? `dry run (${s.mode})` : s.mode;
  lines.push(`replay-dlq ${mode}: ${s.interrupted ? 'interrupted' : 'finished'} after ${(s.durationMs / 1000).toFixed(1)} s`);
  if (s.mode === 'native' && !s.dryRun) {
    lines.push(`  moved by SQS's message-move task: ${s.moved}${s.total ? ` of ~${s.total}` : ''}`);
  } else {
    lines.push(`  scanned ${s.scanned} · selected ${s.selected} · left by the filters ${s.skipped}${s.beyondMax ? ` · beyond --max ${s.beyondMax}` : ''}`);
    if (s.dryRun) {
      lines.push('  nothing was changed; every message was made visible again');
      if (s.failing) lines.push(`  would still fail: ${s.failing} (${s.mode === 'direct' ? 'would stay in the DLQ' : 'the worker would park them again'}; see WOULD BECOME)`);
      if (s.groups.length) lines.push(table(groupRows(s.groups)));
    } else {
      lines.push(`  ${s.mode === 'direct' ? `published ${s.published}` : `moved ${s.moved}`} · still failing ${s.stillFailing.length}`);
    }
  }
  if (s.stillFailing.length) {
    const byReason = new Map<string, number>();
    for (const f of s.stillFailing) byReason.set(f.code, (byReason.get(f.code) ?? 0) + 1);
    lines.push('  still failing, by reason:');
    lines.push(table([...byReason].sort((a, b) => b[1] - a[1]).map(([code, n]) => [code, String(n)]), '    '));
    lines.push(`  still failing${s.stillFailing.length > listLimit ? ` (first ${listLimit})` : ''}:`);
    lines.push(table(s.stillFailing.slice(0, listLimit).map((f) => [f.messageId, f.eventName, `${f.code}: ${f.reason.slice(0, 200)}`]), '    '));
  }
  if (s.incomplete) lines.push(`  incomplete: ${s.incomplete}`);
  if (s.interrupted) lines.push('  interrupted: what was not moved is still in the DLQ, visible; run again to go on');
  return `${lines.join('\n')}\n`;
}
