/** A readable summary of the Caliper records read back from the stream, per Canvas event type. */
export function summarise(records: string[], dlqDepth: number, outputFile: string, skipped = 0): string {
  const rows = new Map<string, { type: string; action: string; object: string; count: number }>();
  for (const r of records) {
    const e = JSON.parse(r).data[0];
    const key = `${e.type} ${e.action} ${e.object.type}`;
    const row = rows.get(key) ?? { type: e.type, action: e.action, object: e.object.type, count: 0 };
    row.count++;
    rows.set(key, row);
  }
  const lines = [...rows.values()].sort((a, b) => b.count - a.count).map((r) => `  ${String(r.count).padStart(5)}  ${r.type.padEnd(16)} ${r.action.padEnd(12)} ${r.object}`);
  return [
    '',
    `Read back ${records.length} Caliper envelopes from the stream:`,
    '  count  type             action       object',
    ...lines,
    ...(skipped ? [`Skipped (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS): ${skipped} message(s).`] : []),
    `Dead-letter queue: ${dlqDepth} message(s).`,
    `Full Caliper output (one envelope per line): ${outputFile}`,
    '',
  ].join('\n');
}
