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

/** The URL as pseudonymise keeps it; undefined removes it. */
export function reduceUrl(text: string, ids: UrlIds): string | undefined {
  return reducePath(text, (id) => ids.user(id), () => TOKEN);
}
