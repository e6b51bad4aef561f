// What the privacy tests search the output for: the personal values of a raw event, by the table
// (src/privacy/fields.ts), and where they may hide (whole strings, inside strings, digits in any IRI).
import { fieldOf, type Field } from '../src/privacy/fields.js';
import { normaliseId } from '../src/privacy/policy.js';

export type Raw = { metadata: Record<string, unknown>; body: Record<string, unknown> };

/** Every (dotted) field of a raw part with its value. */
function fieldsOf(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([k, v]): [string, unknown][] => {
    const name = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' && !Array.isArray(v) ? fieldsOf(v as Record<string, unknown>, name) : [[name, v]];
  });
}

/** What the input says about people: the values the output must not hold, by what they are. */
function personalValues(raw: Raw, keepText = false): { strings: string[]; userIds: string[] } {
  const strings: string[] = [];
  const userIds: string[] = [];
  const eventName = raw.metadata.event_name as string;
  const kept = new Set<string>();
  for (const [name, value] of [...fieldsOf(raw.metadata), ...fieldsOf(raw.body)]) {
    const field = fieldOf(eventName, name) ?? fieldOf(eventName, name.split('.').at(-1)!);
    const personName = field !== 'kept' && field?.kind === 'entity-name' && (raw.body.asset_type === 'user' || eventName.startsWith('user_'));
    if (value === null || value === undefined || value === '') continue;
    if (field === 'kept' || field === undefined || (field.kind === 'entity-name' && !personName)) {
      kept.add(String(value));
      continue;
    }
    const kind: Field['kind'] = personName ? 'direct' : field.kind;
    if (kind === 'user-id' || (kind === 'entity-id' && name === 'user_id')) userIds.push(String(value));
    else if (['identifier', 'log-key', 'direct', 'network', 'user-agent'].includes(kind) || (kind === 'text' && !keepText)) strings.push(String(value));
    else if (kind === 'url' && typeof value === 'string' && value.includes('?')) strings.push(value.slice(value.indexOf('?')));
  }
  // A value that is also a value of a field about things (a course id equal to a user id) is not searched for.
  const keptIds = new Set([...kept].map((v) => normaliseId(v)));
  return { strings: strings.filter((s) => !kept.has(s) && s.length > 2), userIds: userIds.filter((id) => !keptIds.has(normaliseId(id))) };
}

/** Every id-like run of digits in the output (in a URN, an IRI path, a string, a number), in its normalised form. */
function digitTokens(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<![\w~])\d+(?:~\d+)?(?![\w~])/g)].map((m) => normaliseId(m[0])));
}

/** Every string of a JSON value. */
const stringsOf = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(stringsOf) : [];

/** Personal values of `raw` found in the output: a string as a whole string, or inside one when it is 8 characters or longer; a user id as digits anywhere. */
export function leaks(raw: Raw, envelope: unknown, keepText = false): string[] {
  const { strings, userIds } = personalValues(raw, keepText);
  const text = JSON.stringify(envelope);
  const outputs = new Set(stringsOf(envelope));
  const tokens = digitTokens(text);
  return [
    ...strings.filter((s) => outputs.has(s) || (s.length >= 8 && text.includes(JSON.stringify(s).slice(1, -1)))),
    ...userIds.filter((id) => tokens.has(normaliseId(id))).map((id) => `user id ${id}`),
  ];
}

