// What strict Caliper 1.1 (the caliper-1.1 format) checks beyond the spec's tables in model.ts: the
// longest string IMS's JSON Schemas for 1.1 allow in each entity property (schema_1_1/*.json
// `maxLength`; the 1.2 schemas set none).
import { table } from '../table.js';
import { isPlainObject } from '../json.js';

export const MAX_LENGTHS_11: Readonly<Record<string, number>> = table({
  name: 256,
  description: 1024,
  body: 4096,
  comment: 1024,
  mediaType: 128,
  version: 64,
  courseNumber: 128,
  category: 128,
  academicSession: 256,
  value: 256,
  selectionText: 2048,
  bookmarkNotes: 1024,
  volumeLevel: 32,
  volumeMin: 32,
  volumeMax: 32,
  id: 2048,
});


/** Every entity property (outside extensions) whose string is longer than 1.1's schemas allow: `data[0].object.name: …`. */
export function lengthIssues(envelope: unknown): string[] {
  const issues: string[] = [];
  const walk = (value: unknown, at: string): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${at}[${i}]`));
    if (!isPlainObject(value)) return;
    for (const key of Object.keys(value)) {
      if (key === 'extensions') continue;
      const v = value[key];
      const max = MAX_LENGTHS_11[key];
      if (typeof v === 'string' && max !== undefined && v.length > max) issues.push(`${at}.${key}: is ${v.length} characters long, longer than the ${max} Caliper 1.1 allows`);
      else walk(v, `${at}.${key}`);
    }
  };
  if (isPlainObject(envelope) && Array.isArray(envelope.data)) envelope.data.forEach((event, i) => walk(event, `data[${i}]`));
  return issues;
}
