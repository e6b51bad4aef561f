// What the privacy tests search the output for. Independent of src/privacy/fields.ts on purpose: the
// personal fields are listed here from Canvas's documentation (test/fixtures/canvas-docs), so that a
// field the table forgets is a failing test, not a silent pass.
//
// - `leaks(raw, envelope)`: the personal values of a raw event found in the output.
// - `markers()`: unique markers to put in place of personal values (text, user ids, inside URLs),
//   and `found(output)`, which searches the output for them as it is, lower-cased, percent-decoded
//   (repeatedly) and JSON-unescaped. The URL reducer's tests can use it too.

export type Raw = { metadata: Record<string, unknown>; body: Record<string, unknown> };

/** Raw fields (dotted) that hold a Canvas user id. */
export const USER_ID_FIELDS = ['metadata.user_id', 'metadata.real_user_id', 'body.user_id', 'body.associated_user_id', 'body.student_id', 'body.grader_id', 'body.author_id', 'body.user.id'];
/** Raw id fields that hold a user id when their type field (in the same object) is a user. */
export const TYPED_USER_FIELDS: [string, string][] = [
  ['metadata.context_id', 'metadata.context_type'],
  ['body.context_id', 'body.context_type'],
  ['body.asset_id', 'body.asset_type'],
  ['body.associated_asset_id', 'body.associated_asset_type'],
  ['body.artifact_id', 'body.artifact_type'],
  ['body.result_context_id', 'body.result_context_type'],
];
/** Raw fields whose value must not reach the output as it is under pseudonymise (without PRIVACY_KEEP_TEXT) or drop. */
export const PERSONAL_TEXT_FIELDS = [
  'metadata.user_login', 'metadata.user_sis_id', 'metadata.session_id', 'metadata.request_id', 'metadata.client_ip', 'metadata.user_agent', 'metadata.context_sis_source_id',
  'body.user_login', 'body.user_sis_id', 'body.student_sis_id', 'body.user_name', 'body.short_name', 'body.user.name', 'body.user.email', 'body.email',
  'body.lti_user_id', 'body.user_uuid', 'body.sis_source_id', 'body.course.sis_source_id',
  'body.body', 'body.text', 'body.message', 'body.description', 'body.old_body', 'body.syllabus_body', 'body.old_syllabus_body',
  'body.filename', 'body.display_name', 'body.old_display_name',
];
/** Free text among them: kept by pseudonymise with PRIVACY_KEEP_TEXT=1. */
export const TEXT_FIELDS = new Set(['body.body', 'body.text', 'body.message', 'body.description', 'body.old_body', 'body.syllabus_body', 'body.old_syllabus_body', 'body.filename', 'body.display_name', 'body.old_display_name']);
/** Raw fields that hold a URL. */
export const URL_FIELDS = ['metadata.url', 'metadata.referrer', 'body.url', 'body.redirect_url', 'body.progress.next_requirement_url'];

/**
 * The personal text fields of one raw event: PERSONAL_TEXT_FIELDS, with a user's name and uuid
 * (user_*), asset_accessed's asset_name of a user, a file or a folder; without a learning outcome's
 * display_name (the name staff gave it).
 */
export function personalTexts(raw: Raw): string[] {
  const type = String(raw.metadata.event_name);
  const fields = type.startsWith('learning_outcome_') ? PERSONAL_TEXT_FIELDS.filter((f) => f !== 'body.display_name') : [...PERSONAL_TEXT_FIELDS];
  if (type === 'user_created' || type === 'user_updated') fields.push('body.name', 'body.uuid');
  if (type === 'asset_accessed' && ['user', 'attachment', 'folder'].includes(String(raw.body.asset_type).toLowerCase())) fields.push('body.asset_name');
  return fields;
}

export function get(raw: Raw, path: string): unknown {
  let v: unknown = raw;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

export function set(raw: Raw, path: string, value: unknown): void {
  const keys = path.split('.');
  let v = raw as unknown as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) v = (v[k] ??= {}) as Record<string, unknown>;
  v[keys.at(-1)!] = value;
}

/** The user id fields of a raw event that hold a value (typed ones when their type is a user). */
export function userIdFields(raw: Raw): string[] {
  return [
    ...USER_ID_FIELDS.filter((f) => get(raw, f) !== null && get(raw, f) !== undefined),
    ...TYPED_USER_FIELDS.filter(([f, t]) => String(get(raw, t)).toLowerCase() === 'user' && get(raw, f) != null).map(([f]) => f),
  ];
}

const SHARD = 10_000_000_000_000n;
/** A Canvas id in its 17-digit global form when it is one (`2107~5` → `21070000000000005`), else as it is. */
export function globalForm(id: string): string {
  const m = /^(\d+)~(\d+)$/.exec(id);
  return m ? String(BigInt(m[1]!) * SHARD + BigInt(m[2]!)) : id;
}

/** Every id-like run of digits in the output (in a URN, an IRI path, a string, a number), in its global form. */
function digitTokens(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<![\w~])\d+(?:~\d+)?(?![\w~])/g)].map((m) => globalForm(m[0])));
}

/** Every string of a JSON value. */
export const stringsOf = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(stringsOf) : [];

/** Personal values of `raw` found in the output: a text as a whole string, or inside one when it is 8 characters or longer; a global user id as digits anywhere. */
export function leaks(raw: Raw, envelope: unknown, keepText = false): string[] {
  const texts = personalTexts(raw)
    .filter((f) => !(keepText && TEXT_FIELDS.has(f)))
    .map((f) => get(raw, f))
    .filter((v): v is string => typeof v === 'string' && v.length > 2);
  // A value that is also the value of a field about things (a course named like its SIS id) is not searched for.
  const rest = structuredClone(raw);
  for (const f of [...personalTexts(raw), ...URL_FIELDS, ...userIdFields(raw)]) if (get(rest, f) !== undefined) set(rest, f, undefined);
  const things = new Set(stringsOf(rest));
  // A user id that is also the id of a thing (the fixtures' user 1 is their root account 1) is not searched for.
  const thingIds = new Set([...things].map(globalForm));
  const text = JSON.stringify(envelope);
  const outputs = new Set(stringsOf(envelope));
  const tokens = digitTokens(text);
  const userIds = userIdFields(raw).map((f) => globalForm(String(get(raw, f)))).filter((id) => id.length >= 14 && !thingIds.has(id));
  return [
    ...texts.filter((s) => !things.has(s) && (outputs.has(s) || (s.length >= 8 && text.includes(JSON.stringify(s).slice(1, -1))))),
    ...userIds.filter((id) => tokens.has(id)).map((id) => `user id ${id}`),
  ];
}

/** Percent-decodes (`+` as a space) until nothing changes, at most 4 times; an undecodable part stays. */
export function decodeAll(text: string): string {
  let out = text;
  for (let i = 0; i < 4 && out.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(out.replace(/\+/g, ' '));
    } catch {
      next = out.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    if (next === out) break;
    out = next;
  }
  return out;
}

/**
 * Unique markers for personal values, and the search for them in an output. `text(what)`: a marker
 * (`mkr0001q`: letters and digits, so that it survives any encoding and stands for any text);
 * `userId(what)`: a user id Canvas could send, `{ local, global, tilde }` of one user (10-digit local
 * id `98765xxxxx` on shard 3333), searched by its local digits (which every form holds).
 */
export function markers() {
  const all = new Map<string, string>();
  let n = 0;
  const next = () => String(++n).padStart(5, '0');
  return {
    text(what: string): string {
      const m = `mkr${next()}q`;
      all.set(m, what);
      return m;
    },
    userId(what: string, shard = 3333n): { local: string; global: string; tilde: string } {
      const local = `98765${next()}`;
      all.set(local, what);
      return { local, global: String(shard * SHARD + BigInt(local)), tilde: `${shard}~${local}` };
    },
    /** What each marker found in the output stands for (`what`), with where: none when nothing got out. */
    found(output: unknown): string[] {
      const strings = stringsOf(output);
      const haystack = [JSON.stringify(output), ...strings.map(decodeAll)].join('\n').toLowerCase();
      // Every marker shape in the output, looked up (a marker's digits inside a longer run of digits too).
      const seen = new Set([...(haystack.match(/mkr\d{5}q/g) ?? []), ...[...haystack.matchAll(/(?=(98765\d{5}))/g)].map((x) => x[1]!)]);
      return [...seen].filter((m) => all.has(m)).map((m) => `${all.get(m)!} (${m})`);
    },
    get size() {
      return all.size;
    },
  };
}
