// The raw Canvas live event ("Canvas" format): { metadata, body }. Only what every mapper relies on is
// required here; each mapper adds the body fields it needs (see mappers/*.ts).
import { z } from 'zod';

/** The id forms Canvas emits: a decimal id, or a global id written `<shard>~<local id>`. */
export const CANVAS_ID = /^(?:\d{1,20}|\d{1,10}~\d{1,20})$/;

/** A Canvas id: Canvas sends strings, some producers send numbers. */
export const Id = z.union(
  [
    z.string().regex(CANVAS_ID, 'must be a Canvas id (decimal digits, or a global id such as 2107~565)'),
    // Ids past 2^53 have already lost digits in JSON.parse: refuse them rather than emit a wrong id.
    z
      .number()
      .int('numeric id must be an integer below 2^53 (larger ids lose digits in JSON: send them as strings)')
      .nonnegative('numeric id must not be negative'),
  ],
  { error: (issue) => (issue.input === undefined ? 'is required' : 'must be a Canvas id (a string or an integer)') },
);
const typed = (what: string) => ({ error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
/** Optional body/metadata fields, typed as the Caliper property they feed needs them (null and absent are the same). */
export const OptText = z.string(typed('a string')).nullish();
export const OptId = Id.nullish();
export const OptNumber = z.number(typed('a number')).nullish();
export const OptInt = z.number(typed('an integer')).int('must be an integer').nullish();
export const OptBool = z.boolean(typed('true or false')).nullish();
/** A timestamp as Canvas sends it (a string; its format is checked where it is converted). */
export const OptTime = z.string(typed('a timestamp string (ISO 8601)')).nullish();

/** Values that become part of an IRI (the edApp's host, the session's URN): only the characters they can hold. */
const Hostname = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$/, 'must be a host name (letters, digits, dots, hyphens, an optional :port)').nullish();
const SessionId = z.string().regex(/^[A-Za-z0-9._~-]{1,255}$/, 'must be a session id (letters, digits, ., _, ~, -)').nullish();

// Metadata fields the builders read; others are ignored here (they still count for the event id).
export const Metadata = z.object({
  event_name: z.string({ error: 'is required (a string)' }).min(1, 'must not be empty'),
  event_time: z.string({ error: 'is required (an ISO 8601 string)' }),
  user_id: OptId,
  real_user_id: OptId,
  user_login: OptText,
  user_sis_id: OptText,
  root_account_id: OptId,
  root_account_uuid: OptText,
  root_account_lti_guid: OptText,
  context_type: OptText,
  context_id: OptId,
  context_role: OptText,
  context_account_id: OptId,
  hostname: Hostname,
  request_id: OptText,
  session_id: SessionId,
  user_agent: OptText,
  client_ip: OptText,
  url: OptText,
  referrer: OptText,
  http_method: OptText,
  developer_key_id: OptId,
  job_id: OptId,
  job_tag: OptText,
});
export type Metadata = z.infer<typeof Metadata>;

export const RawEnvelope = z.object({
  metadata: Metadata,
  body: z.looseObject({}, { error: 'must be an object' }),
});

export interface RawEvent<B = Record<string, unknown>> {
  metadata: Metadata;
  body: B;
}

/**
 * A body schema: the fields a mapper requires. It only checks them; the mapper receives the body as
 * Canvas sent it, less the fields neither Canvas documents for the type nor the schema names
 * (src/known-fields.ts).
 */
export const body = <S extends z.ZodRawShape>(shape: S) => z.object(shape);
/** What a mapper receives: the body's checked fields typed by its schema, and every other known field as Canvas sent it. */
export type Body<S extends z.ZodType> = z.infer<S> & Record<string, unknown>;
export { z };
