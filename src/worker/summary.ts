/**
 * A readable summary of the Caliper records read back from the stream (or the local Caliper endpoint): per Caliper type, action and
 * object type, and which of the Canvas event types enqueued (`sent`: event id → event_name, known when
 * ids are deterministic) arrived.
 */
export function summarise(records: string[], dlqDepth: number, outputFile: string | undefined, skipped = 0, sent?: ReadonlyMap<string, string>, from = 'the stream'): string {
  const rows = new Map<string, { type: string; action: string; object: string; count: number }>();
  for (const r of records) {
    const e = JSON.parse(r).data[0];
    const key = `${e.type} ${e.action} ${e.object.type}`;
    const row = rows.get(key) ?? { type: e.type, action: e.action, object: e.object.type, count: 0 };
    row.count++;
    rows.set(key, row);
  }
  const arrived = new Set(records.map((r) => sent?.get(JSON.parse(r).data[0].id)));
  const types = sent && [...new Set(sent.values())].sort();
  const missing = types?.filter((t) => !arrived.has(t)) ?? [];
  const lines = [...rows.values()].sort((a, b) => b.count - a.count).map((r) => `  ${String(r.count).padStart(5)}  ${r.type.padEnd(16)} ${r.action.padEnd(12)} ${r.object}`);
  return [
    '',
    `Read back ${records.length} Caliper envelopes from ${from}:`,
    '  count  type             action       object',
    ...lines,
    ...(types ? [`Canvas event types published: ${types.length - missing.length} of the ${types.length} enqueued${missing.length ? ` (not published: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? `, and ${missing.length - 10} more` : ''})` : ''}.`] : []),
    ...(skipped ? [`Skipped (EVENT_TYPES, EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS, CALIPER_EVENT_TYPES, PERSON_ID_UNMAPPED=skip): ${skipped} message(s).`] : []),
    `Dead-letter queue: ${dlqDepth} message(s).`,
    outputFile === undefined ? 'Full Caliper output: not kept (npm start -- --output FILE writes it, one envelope per line).' : `Full Caliper output (one envelope per line): ${outputFile}`,
    '',
  ].join('\n');
}
