// INTERIM, until the allowlist URL reducer (src/privacy/url.ts, another change) lands: its contract,
// served by src/privacy/values.ts's reduceUrl (scheme, host and path; user ids after users/user/about
// pseudonymised; userinfo, query and fragment dropped). When url.ts lands, src/privacy/policy.ts
// imports reduceUrl and UrlIds from './url.js' and this file goes.
import { reduceUrl as reducePath } from './values.js';

/** How the reducer names the people a URL holds: the user pseudonym of a Canvas user id, an SIS id's (undefined: remove). */
export interface UrlIds {
  host?: string;
  user(id: string): string;
  sis(kind: 'sis_user_id' | 'sis_login_id', value: string): string | undefined;
}

/** A calendar feed's user token becomes this placeholder (the interim reducer has no key for it). */
const TOKEN = '_';

/** Canvas's SIS id forms in a path (`sis_user_id:…`, `sis_section_id:…`): the form and its value up to the next `/`. */
const SIS_SEGMENT = /(?<=\/)(sis_[a-z_]+):([^/]*)/gi;

/** The URL as pseudonymise keeps it; undefined removes it. An SIS id in the path becomes the user's SIS pseudonym, or a placeholder. */
export function reduceUrl(text: string, ids: UrlIds): string | undefined {
  const out = reducePath(text, (id) => ids.user(id), () => TOKEN);
  if (out === undefined || !/sis_/i.test(out)) return out;
  return out.replace(SIS_SEGMENT, (_whole, kind: string, value: string) => {
    const lower = kind.toLowerCase();
    const pseudonym = lower === 'sis_user_id' || lower === 'sis_login_id' ? ids.sis(lower, decodeURIComponentSafe(value)) : undefined;
    return `${lower}:${pseudonym ?? TOKEN}`;
  });
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
