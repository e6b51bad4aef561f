// Text we write into SQS messages. SQS takes only XML 1.0 characters in a message body and in a String
// attribute — #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF — and refuses the whole
// call otherwise; and a message, body and attributes together, is at most 1 MiB. An attribute value is
// ours to shape (it is a label: an event name, an error's one-line reason), so every attribute we write
// goes through `sqsAttributeText`; a body is an event and must keep its value (`sqsJsonBody`).

/** SQS's largest message: body plus every attribute's name, type and value (worker-anchors.md, "Message quotas"). */
export const SQS_MESSAGE_MAX_BYTES = 1024 * 1024;

/** Our attribute values carry labels and one-line reasons: far less than a message may hold. */
export const ATTRIBUTE_MAX_BYTES = 4096;

/** Any character outside SQS's set; with the `u` flag a lone surrogate is one match, a pair is not. */
const NOT_SQS = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ELLIPSIS = '…';

/**
 * A String attribute value SQS accepts: each character SQS refuses (U+0000 and the other C0 controls,
 * U+FFFE, U+FFFF, a lone surrogate) replaced by U+FFFD, cut to `maxBytes` of UTF-8 on a code point
 * boundary (a surrogate pair is one code point: never split) with `…` marking the cut, and never empty
 * (SQS refuses an empty value).
 */
export function sqsAttributeText(value: string, maxBytes = ATTRIBUTE_MAX_BYTES): string {
  const clean = value.replace(NOT_SQS, '\uFFFD');
  if (!clean) return '(empty)';
  if (clean.length * 3 <= maxBytes || Buffer.byteLength(clean) <= maxBytes) return clean;
  const bytes = Buffer.from(clean, 'utf8');
  // Back from the cut to the first byte of a code point (UTF-8 continuation bytes are 10xxxxxx).
  let end = Math.max(0, maxBytes - Buffer.byteLength(ELLIPSIS));
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + ELLIPSIS;
}

/** U+FFFE and U+FFFF: valid in a JSON string, refused by SQS in a body. */
const NOT_SQS_IN_JSON = /[\uFFFE\uFFFF]/g;

/**
 * A JSON text as an SQS message body, with the same JSON value: U+FFFE and U+FFFF written as `\uXXXX`
 * escapes. (In a valid JSON text, written as UTF-8, they are the only characters SQS refuses: control
 * characters can only be escaped in strings, and a lone surrogate cannot be written in UTF-8.)
 */
export const sqsJsonBody = (json: string): string => json.replace(NOT_SQS_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
