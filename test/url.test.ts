// The URL reducer (src/privacy/url.ts) and its tables (src/privacy/canvas-routes.ts): the tables hold
// every route word and query parameter of the URLs in Canvas's docs (test/fixtures/canvas-docs/urls.json),
// keep masks every query value not on the allowlist, and pseudonymise leaves of a URL only Canvas's
// route words, ids (users' pseudonymised) and allowlisted parameters — whatever form a person's data takes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUERY_ALLOWLIST, ROUTE_WORDS, USER_POSITIONS } from '../src/privacy/canvas-routes.js';
import { prng } from './helpers.js';
import { MASK, maskUrl, mayHoldUrlParts, parameterKind, PLACEHOLDER, reduceUrl, type UrlIds } from '../src/privacy/url.js';

const DOCS: { url: string; file: string }[] = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'canvas-docs', 'urls.json'), 'utf8'));
/** The docs' Canvas hosts: Instructure's cloud, Canvas's development host, and a slip of the docs (`instrucvture`). */
const isCanvas = (url: URL) => url.hostname.endsWith('.instructure.com') || url.hostname === 'canvas.docker' || url.hostname === 'oxana.instrucvture.com' || url.hostname === 'relative.invalid';
const canvasDocUrls = DOCS.map(({ url }) => new URL(url.replace(/&amp;/g, '&'), 'https://relative.invalid')).filter(isCanvas);
const ID = /^\d+(?:~\d+)?$/;
const SUFFIX = /\.(?:json|xml|csv|text|txt|atom|ics|rss|html)$/i;

/** The path segments of the docs' Canvas URLs that are not route words, each a person's or a thing's own name: a placeholder under pseudonymise. */
const NOT_ROUTE_WORDS = [
  // wiki page slugs (made from titles)
  'ccs-online-logo-instructions', 'collaborative-project-team-sign-up', 'the-bbc-reports-on-shakespeare', 'week-2-introduction',
  // folder and file names in a file's path
  'course files', 'CourseResources', 'Week1', 'My Attachments.htm',
  // per-user calendar feed tokens
  'user_ABdASKrt432fdKSDALhGDSL83423kFDRK32', 'user_AbcDeFGhIJkL123412312312312312', 'user_abcdeadsadsX3jd93E2134431dasf3214123rf321231',
  // SIS ids of courses and sections, an LTI resource link's uuid
  'sis_course_id:25de654b-bf56-19b7-b9cd-28b5deeedbe4', 'sis_course_id:AAOE190823', 'sis_course_id:ABHX176020', 'sis_course_id:syllabus-registry-F9-HSS',
  'sis_section_id:12345.678912', 'sis_section_id:MATH-123-A12_12345', '29600186-1937-4bb2-a68-54fe40eff21',
];
/** The docs' query parameters that are not on the allowlist: masked under keep, left out under pseudonymise. */
const NOT_ALLOWED = ['access_token', 'verifier', 'search_term', 'return_to', 'url', 'execution', 'course_section[name]', 'course_section[sis_section_id]'];

const segmentsOf = (url: URL) =>
  url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s).replace(/;.*/, '').replace(SUFFIX, ''));

describe('the tables hold every route word and query parameter of Canvas’s docs', () => {
  it('the docs give URLs to check', () => {
    expect(DOCS.length).toBeGreaterThan(150);
    expect(canvasDocUrls.length).toBeGreaterThan(150);
  });

  it('every path segment is an id, a route word, or a name listed here (fails on a word in neither table)', () => {
    const unknown = new Set<string>();
    const seen = new Set<string>();
    for (const url of canvasDocUrls) {
      for (const segment of segmentsOf(url)) {
        if (ID.test(segment) || ROUTE_WORDS.has(segment.toLowerCase())) continue;
        if (NOT_ROUTE_WORDS.includes(segment)) seen.add(segment);
        else unknown.add(segment);
      }
    }
    expect([...unknown], 'add each to ROUTE_WORDS (a Canvas route word) or to NOT_ROUTE_WORDS here (a name)').toEqual([]);
    expect(NOT_ROUTE_WORDS.filter((s) => !seen.has(s)), 'no longer in the docs: remove').toEqual([]);
  });

  it('every query parameter is on the allowlist or listed here as not allowed; users’ ids are user-valued', () => {
    const unknown = new Set<string>();
    const seen = new Set<string>();
    for (const url of [...canvasDocUrls, ...DOCS.map(({ url }) => new URL(url.replace(/&amp;/g, '&'), 'https://relative.invalid'))]) {
      for (const name of url.searchParams.keys()) {
        const key = name.toLowerCase().replace(/\[\]$/, '');
        if (QUERY_ALLOWLIST.has(key)) continue;
        if (NOT_ALLOWED.includes(key)) seen.add(key);
        else unknown.add(name);
      }
    }
    expect([...unknown], 'add each to QUERY_ALLOWLIST (harmless) or to NOT_ALLOWED here').toEqual([]);
    expect(NOT_ALLOWED.filter((n) => !seen.has(n)), 'no longer in the docs: remove').toEqual([]);
    for (const name of ['user_id', 'student_id', 'as_user_id', 'enrollment[user_id]']) expect(QUERY_ALLOWLIST.get(name), name).toBe('user');
  });

  it('no table entry is blank, upper case or padded (a segment is matched lower-cased, after decoding)', () => {
    for (const word of ROUTE_WORDS) expect(word).toMatch(/^[a-z0-9_]+$/);
    for (const name of QUERY_ALLOWLIST.keys()) expect(name).toMatch(/^[a-z0-9_]+(?:\[[a-z0-9_]+\])?$/);
    for (const run of USER_POSITIONS) for (const part of run) expect(part === ':id' || ROUTE_WORDS.has(part), part).toBe(true);
  });
});

/** Pseudonyms made visible: a user's id as `USER(id)`, a SIS user id as `SIS(id)`; logins are removed. */
const IDS: UrlIds = {
  host: 'canvas.example.edu',
  user: (id) => `USER(${id})`,
  sis: (kind, value) => (kind === 'sis_user_id' ? `SIS(${value})` : undefined),
};
const reduce = (url: string) => reduceUrl(url, IDS);

describe('docs/urls.md', () => {
  const doc = fs.readFileSync(path.join(import.meta.dirname, '..', 'docs', 'urls.md'), 'utf8');
  const code = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ');

  it('prints the tables as they are', () => {
    expect(doc).toContain(`\n${code([...ROUTE_WORDS].sort())}\n`);
    for (const kind of ['word', 'id', 'time', 'user']) {
      expect(doc).toContain(`| ${kind} | ${code([...QUERY_ALLOWLIST].filter(([, k]) => k === kind).map(([name]) => name).sort())} |`);
    }
    expect(doc).toContain(`\n${code(USER_POSITIONS.map((run) => [...run, ':user'].join('/')))}\n`);
  });

  it('its examples are what reduceUrl gives', () => {
    const ids: UrlIds = { user: (id) => `P(${id})`, sis: (_kind, value) => `P(${value})` };
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| (?:`([^`]+)`|\(removed\)) \|$/gm)];
    expect(rows.length).toBe(7);
    for (const [, input, output] of rows) expect(reduceUrl(input!, ids), input).toBe(output);
  });
});

describe('pseudonymise: a Canvas URL becomes its route', () => {
  const C = 'https://oxana.instructure.com';
  it.each([
    // user positions
    [`${C}/api/v1/courses/565/assignments/12345/submissions/98765`, `${C}/api/v1/courses/565/assignments/12345/submissions/USER(98765)`],
    [`${C}/api/v1/sections/4/assignments/12/submissions/98765/comments/3`, `${C}/api/v1/sections/4/assignments/12/submissions/USER(98765)/comments/3`],
    [`${C}/courses/565/assignments/1234567/submissions/98765/turnitin/resubmit`, `${C}/courses/565/assignments/1234567/submissions/USER(98765)/turnitin/resubmit`],
    [`${C}/courses/144/grades/2107~1830`, `${C}/courses/144/grades/USER(2107~1830)`],
    [`${C}/api/v1/audit/grade_change/students/1830`, `${C}/api/v1/audit/grade_change/students/USER(1830)`],
    [`${C}/api/v1/audit/grade_change/graders/77`, `${C}/api/v1/audit/grade_change/graders/USER(77)`],
    [`${C}/api/v1/users/5/observees/6`, `${C}/api/v1/users/USER(5)/observees/USER(6)`],
    [`${C}/courses/1234/users/14320`, `${C}/courses/1234/users/USER(14320)`],
    [`${C}/courses/1234/students/14320`, `${C}/courses/1234/students/USER(14320)`],
    [`${C}/api/v1/courses/1/analytics/users/14320/activity`, `${C}/api/v1/courses/1/analytics/users/USER(14320)/activity`],
    // grade_change's documented request_url: the student's id beside the student's pseudonym would undo it
    [`${C}/api/v1/courses/565/assignments/355/submissions/48?include%5B%5D=visibility`, `${C}/api/v1/courses/565/assignments/355/submissions/USER(48)?include%5B%5D=visibility`],
    [`${C}/about/14320`, `${C}/about/USER(14320)`],
    [`${C}/accounts/1/admins/9`, `${C}/accounts/1/admins/USER(9)`],
    [`${C}/courses/1/outcomes/users/9`, `${C}/courses/1/outcomes/users/USER(9)`],
    [`${C}/courses/2/gradebook/speed_grader?assignment_id=39&student_id=2`, `${C}/courses/2/gradebook/speed_grader?assignment_id=39&student_id=USER(2)`],
    [`${C}/courses/100123/quizzes/2223333/submissions?user_id=987123`, `${C}/courses/100123/quizzes/2223333/submissions?user_id=USER(987123)`],
    [`${C}/api/v1/courses/sis_course_id:ABC/assignments/sis_assignment_id:X/submissions/98765`, `${C}/api/v1/courses/${PLACEHOLDER}/assignments/${PLACEHOLDER}/submissions/USER(98765)`],
    [`${C}/courses/sis_course_id:ABC/grades/5`, `${C}/courses/${PLACEHOLDER}/grades/USER(5)`],
    [`${C}/api/v1/users/sis_user_id:A1/observees/6`, `${C}/api/v1/users/sis_user_id:SIS(A1)/observees/USER(6)`],
    // not a user: a quiz submission's own id, a course's
    [`${C}/courses/1/quizzes/2/submissions/3`, `${C}/courses/1/quizzes/2/submissions/3`],
    // suffixes, encodings, case, ;param
    [`${C}/courses/410200/assignments/3964323/submissions/986036.text`, `${C}/courses/410200/assignments/3964323/submissions/USER(986036).text`],
    [`${C}/api/v1/users/5.json`, `${C}/api/v1/users/USER(5).json`],
    [`${C}/api/v1/users/%35%36`, `${C}/api/v1/users/USER(56)`],
    [`${C}/api/v1/users/2107%7E56`, `${C}/api/v1/users/USER(2107~56)`],
    [`${C}/%55sers/5`, `${C}/users/USER(5)`],
    [`${C}/%2555sers/5`, `${C}/users/USER(5)`],
    [`${C}/Users/5`, `${C}/users/USER(5)`],
    [`${C}/COURSES/1/USERS/5`, `${C}/courses/1/users/USER(5)`],
    [`${C}/users/5;jsessionid=abc/profile`, `${C}/users/USER(5)/profile`],
    [`${C}/api/v1/accounts/self/sis_imports.json?import_type=ims_xml&extension=xml`, `${C}/api/v1/accounts/self/sis_imports.json?import_type=ims_xml&extension=xml`],
    // dot segments move a path: resolved first, as a browser would
    [`${C}/users/5/%2e%2e/6`, `${C}/users/USER(6)`],
    ['/courses/1/../users/7', '/courses/users/USER(7)'],
    ['/users/5?user_id=6&amp;student_id=7;as_user_id=8', '/users/USER(5)?user_id=USER(6)&student_id=USER(7)&as_user_id=USER(8)'],
    // SIS forms: a SIS user id's pseudonym; a login (an e-mail) removed by this policy
    [`${C}/api/v1/users/sis_user_id:A123/profile`, `${C}/api/v1/users/sis_user_id:SIS(A123)/profile`],
    [`${C}/api/v1/users/sis_login_id:jdoe@example.edu`, `${C}/api/v1/users/${PLACEHOLDER}`],
    [`${C}/api/v1/users/sis_login_id%3Ajdoe%40example.edu/logins`, `${C}/api/v1/users/${PLACEHOLDER}/logins`],
    [`${C}/api/v1/courses/565/discussion_topics?per_page=33&as_user_id=sis_login_id%3Ajcollins2`, `${C}/api/v1/courses/565/discussion_topics?per_page=33`],
    [`${C}/api/v1/courses/sis_course_id:ABC?as_user_id=sis_user_id:48ea&include=permissions`, `${C}/api/v1/courses/${PLACEHOLDER}?as_user_id=sis_user_id:SIS(48ea)&include=permissions`],
    // names, tokens and slugs: placeholders
    [`${C}/feeds/calendars/user_AbC123dEf.ics`, `${C}/feeds/calendars/${PLACEHOLDER}`],
    [`${C}/feeds/enrollments/enrollment_AbC123dEf.atom`, `${C}/feeds/enrollments/${PLACEHOLDER}`],
    [`${C}/courses/412~17342/files/474~958001/course%20files/Jane%20Doe/jane.doe@example.edu.pdf?download=1`, `${C}/courses/412~17342/files/474~958001/${PLACEHOLDER}/${PLACEHOLDER}/${PLACEHOLDER}?download=1`],
    [`${C}/users/5/files/folder/jane.doe%40example.edu`, `${C}/users/USER(5)/files/${PLACEHOLDER}/${PLACEHOLDER}`],
    [`${C}/eportfolios/12/Jane_Does_Portfolio/Home`, `${C}/eportfolios/12/${PLACEHOLDER}/${PLACEHOLDER}`],
    [`${C}/courses/1/pages/user_guide`, `${C}/courses/1/pages/${PLACEHOLDER}`],
    [`${C}/courses/1/pages/jane-does-reflection#section`, `${C}/courses/1/pages/${PLACEHOLDER}`],
    [`${C}/courses/1/files/%E0%A4%A`, `${C}/courses/1/files/${PLACEHOLDER}`],
    // queries: allowlisted parameters of their kind's shape only
    [`${C}/api/v1/courses/144/users?page=2&per_page=100&include[]=email&sessionid=s1&search_term=jane`, `${C}/api/v1/courses/144/users?page=2&per_page=100&include[]=email`],
    [`${C}/api/v1/courses/144/users?page=bookmark:WyJKYW5lIl0&sort=jane@example.edu`, `${C}/api/v1/courses/144/users`],
    [`${C}/api/v1/sections/4811/enrollments?enrollment[user_id]=20064&amp;enrollment[type]=StudentEnrollment`, `${C}/api/v1/sections/4811/enrollments?enrollment[user_id]=USER(20064)&enrollment[type]=StudentEnrollment`],
    [`${C}/files/45159801/download?download_frd=1&verifier=O2rxkk4B`, `${C}/files/45159801/download?download_frd=1`],
    [`${C}/conversations?filter[]=user_5&scope=inbox`, `${C}/conversations?scope=inbox`],
    // userinfo never passes
    [`https://jane:pw@oxana.instructure.com/courses/1`, `${C}/courses/1`],
    // relative paths are Canvas's; the event's own host is Canvas
    ['/courses/565/users/14320?module_item_id=3', '/courses/565/users/USER(14320)?module_item_id=3'],
    ['https://canvas.example.edu/users/5', 'https://canvas.example.edu/users/USER(5)'],
    ['https://CANVAS.example.edu:443/users/5', 'https://canvas.example.edu/users/USER(5)'],
  ])('%s', (input, expected) => expect(reduce(input)).toBe(expected));

  it('a URL read by hand (the common form) reduces as the URL parser reads it (an upper-case host sends it to the parser)', () => {
    let compared = 0;
    for (const { url } of DOCS) {
      const m = /^(https?:\/\/)([a-z0-9.-]+)(.*)$/.exec(url.replace('oxana.instrucvture.com', 'oxana.instructure.com'));
      if (m === null) continue;
      expect(reduce(`${m[1]}${m[2]!.toUpperCase()}${m[3]}`), url).toBe(reduce(m.slice(1).join('')));
      compared++;
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('a path segment is kept only as a route word, an id, a pseudonym or the placeholder (every Canvas URL of the docs)', () => {
    for (const url of canvasDocUrls) {
      const text = url.hostname === 'relative.invalid' ? url.pathname + url.search : url.href.replace('oxana.instrucvture.com', 'oxana.instructure.com').replace('canvas.docker', 'canvas.example.edu');
      const out = reduce(text);
      expect(out, text).toBeDefined();
      for (const segment of new URL(out!, 'https://relative.invalid').pathname.split('/').slice(1)) {
        const stem = segment.replace(SUFFIX, '');
        expect(ROUTE_WORDS.has(stem) || ID.test(stem) || /^USER\(\d+(?:~\d+)?\)$/.test(stem) || stem === PLACEHOLDER || stem === '', `${text}: ${segment}`).toBe(true);
      }
    }
  });
});

describe('pseudonymise: any other URL keeps its origin, anything else goes', () => {
  it.each([
    ['https://www.facebook.com/jane.doe?ref=bookmarks', 'https://www.facebook.com/'],
    ['https://jane.github.io:8443/about/5', 'https://jane.github.io:8443/'],
    ['https://oxana.instructure.com@evil.example/users/5', 'https://evil.example/'],
    ['https://oxana.instructure.com.evil.example/users/5', 'https://oxana.instructure.com.evil.example/'],
    ['http://test.submission.net/my-essay-by-jane', 'http://test.submission.net/'],
    ['//cdn.example/jane/photo.png', '//cdn.example/'],
    ['//oxana.instructure.com/users/5', '//oxana.instructure.com/users/USER(5)'],
  ])('%s → %s', (input, expected) => expect(reduce(input)).toBe(expected));

  it.each([
    'mailto:jane@example.edu',
    'MAILTO:jane@example.edu',
    'javascript:alert(document.cookie)',
    'data:text/html,<b>jane</b>',
    'ftp://files.example/jane',
    '//jane@evil.example/x',
    '//jane:pw@oxana.instructure.com/users/5',
    '/\\evil.example/users/5',
    'courses/1/users/5',
    'jane doe',
    '',
  ])('%j → undefined', (input) => expect(reduce(input)).toBeUndefined());

  it('keeps userinfo out after any scheme: only http and https (any case) give a URL, of the host after the userinfo', () => {
    const random = prng(20);
    const pick = (alphabet: string, max: number) => Array.from({ length: Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const heads = ['http', 'https', 'HTTPS', 'hTtP'];
    for (let i = 0; i < 5_000; i++) heads.push(pick('hHtTpPsS:+.-_@/[`{a09', 8));
    for (const head of heads) {
      const url = `${head}://jane:pw@h.test/users/5?x=1`;
      const out = reduce(url);
      expect(out ?? '', url).not.toMatch(/jane|pw/);
      // A head with a `/` makes a path (`/x://…` is a relative URL of Canvas): its segments are placeholders.
      if (!head.includes('/')) expect(out, url).toBe(/^https?$/i.test(head) ? `${head.toLowerCase()}://h.test/` : undefined);
    }
  });

  it('without the event’s host, a Canvas on another domain is another host', () => {
    expect(reduceUrl('https://canvas.example.edu/users/5', { ...IDS, host: undefined })).toBe('https://canvas.example.edu/');
  });
});

describe('keep: maskUrl masks every query value not on the allowlist', () => {
  it.each([
    ['https://x.test/a?sessionid=s1&SAMLart=a1&x_token=t1&page=2', 'https://x.test/a?sessionid=[FILTERED]&SAMLart=[FILTERED]&x_token=[FILTERED]&page=2'],
    ['https://jane:pw@x.test/a?page=2', 'https://x.test/a?page=2'],
    ['//jane@x.test/a', '//x.test/a'],
    ['https://x.test/users/5;jsessionid=abc/files?page=1', 'https://x.test/users/5/files?page=1'],
    ['/users/5;jsessionid=abc', '/users/5'],
    ['https://x.test/share?AbC123tok&page=1&k=v', 'https://x.test/share?AbC123tok&page=1&k=[FILTERED]'],
    ['https://x.test/cb#access_token=t&token_type=bearer', 'https://x.test/cb#access_token=[FILTERED]&token_type=[FILTERED]'],
    ['https://x.test/courses/1/pages/x#section-2', 'https://x.test/courses/1/pages/x#section-2'],
    ['https://x.test/a?as_user_id=sis_login_id%3Ajcollins2&student_id=5', 'https://x.test/a?as_user_id=sis_login_id%3Ajcollins2&student_id=5'],
    ['<p>See <a href="/courses/1/files/2/download?verifier=abc&amp;wrap=1">notes</a> and https://t.example/x?k=v.</p>', '<p>See <a href="/courses/1/files/2/download?verifier=[FILTERED]&amp;wrap=1">notes</a> and https://t.example/x?k=[FILTERED]</p>'],
    ['mailto:jane@example.edu?subject=Hi', 'mailto:jane@example.edu?subject=[FILTERED]'],
    ['https://x.test/a?page=', 'https://x.test/a?page='],
    ['https://x.test/a?page=1?access_token=abc', 'https://x.test/a?page=1?access_token=[FILTERED]'],
    ['https://x.test/#/route?token=abc&page=2', 'https://x.test/#/route?token=[FILTERED]&page=2'],
    ['(see https://x.test/a;jsessionid=abc/b?sid=1)', '(see https://x.test/a/b?sid=[FILTERED]'],
  ])('%s', (input, expected) => expect(maskUrl(input)).toBe(expected));

  it.each(['What? Really; yes.', 'jane@example.edu', 'a=b', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) Chrome/73.0', '#hashtag', 'x;y'])('text that holds no URL is unchanged: %j', (text) => {
    expect(maskUrl(text)).toBe(text);
  });

  it('is idempotent', () => {
    for (const url of DOCS.map((d) => d.url)) expect(maskUrl(maskUrl(url)), url).toBe(maskUrl(url));
  });

  it('masks the documented credentials and nothing on the allowlist, in every URL of the docs', () => {
    for (const { url } of DOCS) {
      const out = maskUrl(url);
      expect(out, url).not.toMatch(/(access_token|verifier)=(?!\[FILTERED\])/);
      for (const [name, value] of new URL(url.replace(/&amp;/g, '&'), 'https://relative.invalid').searchParams) {
        if (parameterKind(encodeURIComponent(name)) !== undefined && value !== '') expect(out, `${url}: ${name}`).not.toContain(`${name}=${MASK}`);
      }
    }
  });

  it('strings with no URL part skip the work: mayHoldUrlParts is false, and the string comes back as it is', () => {
    const plain = ['565', '2107~565', 'Jane Doe', '2019-11-01T19:11:21.419Z', 'urn:instructure:canvas:user:21070000000014012', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/73.0.3683.103 Safari/537.36', 'online_text_entry'];
    for (const text of plain) {
      expect(mayHoldUrlParts(text), text).toBe(false);
      expect(maskUrl(text)).toBe(text);
    }
    for (const text of ['a/b=c', 'a@b.c', '/a;b=c']) expect(mayHoldUrlParts(text), text).toBe(true);
    for (const text of ['why?!', 'https://x.test/share?AbC123', '/a;b', '?a=b', '#a=b']) expect(mayHoldUrlParts(text), text).toBe(false);
  });

  it('a long text without a URL costs one pass, not one per character', () => {
    const text = `${'x'.repeat(60_000)} a=b`;
    const start = performance.now();
    expect(maskUrl(text)).toBe(text);
    expect(performance.now() - start).toBeLessThan(500);
  });
});
