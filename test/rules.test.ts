// The rules no documented example shows: who the actor is, contexts, normalisation, secrets.
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../src/caliper/validate.js';
import { mapEvent } from '../src/engine.js';
import { event, ext, SEND_TIME, systemEvent, userEvent, without } from './helpers.js';

const page = { wiki_page_id: '21070000000000009', title: 'Week 1', body: '<p>hi</p>' };

describe('actor, edApp, session and membership', () => {
  it('a system-generated event has the default application as actor and edApp, no session and no membership', () => {
    const e = event(systemEvent('wiki_page_created', page, { context_type: 'Course', context_id: '565' }));
    expect(e.actor).toEqual({ id: 'http://www.canvaslms.com/', type: 'SoftwareApplication' });
    expect(e.edApp).toEqual({ id: 'http://www.canvaslms.com/', type: 'SoftwareApplication' });
    expect(e.session).toBeUndefined();
    expect(e.membership).toBeUndefined();
    expect(e.group).toEqual({ id: 'urn:instructure:canvas:course:565', type: 'CourseOffering', extensions: { 'com.instructure.canvas': { context_type: 'Course', entity_id: '565' } } });
    expect(ext(e)).toEqual({ job_id: '1020020528469291', job_tag: 'Assignment#post_submissions', version: '1.0.0' });
    const envelope = mapEvent(systemEvent('wiki_page_created', page), { sendTime: SEND_TIME });
    expect(envelope.sensor).toBe('http://www.canvaslms.com/');
  });

  it('a system-generated grade change is graded by the application, even with a grader in the body', () => {
    const e = event(systemEvent('grade_change', { submission_id: '1', assignment_id: '2', grader_id: '3', score: 7, points_possible: 20 }));
    expect(e.actor.type).toBe('SoftwareApplication');
    expect(e.generated.scoredBy).toBe('urn:instructure:canvas:user:3');
  });

  it('a masquerading user: the actor is the user acted as, real_user_id names the masquerader', () => {
    const e = event(userEvent('wiki_page_created', page, { user_id: '222', real_user_id: '111' }));
    expect(e.actor.id).toBe('urn:instructure:canvas:user:222');
    expect(ext(e.actor)).toMatchObject({ entity_id: '222', real_user_id: '111' });
    expect(e.membership.member.id).toBe('urn:instructure:canvas:user:222');
  });

  it('a request Canvas could not tie to a user has the Person user:0 as actor, and no membership', () => {
    const e = event(without(userEvent('wiki_page_created', page), 'user_id', 'user_login', 'user_sis_id'));
    expect(e.actor.id).toBe('urn:instructure:canvas:user:0');
    expect(e.actor.type).toBe('Person');
    expect(ext(e.actor)).toEqual({ root_account_id: '21070000000000001', root_account_lti_guid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs.oxana.instructure.com', root_account_uuid: 'VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs' });
    expect(e.membership).toBeUndefined();
    expect(e.session).toEqual({ id: 'urn:instructure:canvas:session:ef686f8ed684abf78cbfa1f6a58112b5', type: 'Session' });
  });

  it('navigation by an unidentified visitor is attributed to the Canvas application (as Instructure documents)', () => {
    const raw = without(userEvent('asset_accessed', { asset_type: 'course', asset_id: '144', asset_subtype: 'calendar_feed' }, { http_method: 'GET' }), 'user_id', 'user_login', 'user_sis_id');
    const e = event(raw);
    expect(e.actor).toEqual({ id: 'http://oxana.instructure.com/', type: 'SoftwareApplication' });
    expect(e.membership).toBeUndefined();
  });

  it.each([
    ['TeacherEnrollment', 'Instructor', ['Instructor']],
    ['StudentEnrollment', 'Learner', ['Learner']],
    ['TaEnrollment', 'TeachingAssistant', ['Instructor']],
    ['DesignerEnrollment', 'ContentDeveloper', ['ContentDeveloper']],
    ['ObserverEnrollment', 'Mentor', ['Mentor']],
    ['StudentViewEnrollment', 'Learner', ['Learner']],
  ])('context_role %s → membership segment %s, roles %j', (role, segment, roles) => {
    const e = event(userEvent('wiki_page_created', page, { context_role: role }));
    expect(e.membership.id).toBe(`urn:instructure:canvas:course:21070000000000565:${segment}:21070000000000001`);
    expect(e.membership.roles).toEqual(roles);
  });

  it('an unknown or missing context_role gives a membership with the user segment and no roles', () => {
    for (const raw of [userEvent('wiki_page_created', page, { context_role: 'CustomRole' }), without(userEvent('wiki_page_created', page), 'context_role')]) {
      const e = event(raw);
      expect(e.membership.id).toBe('urn:instructure:canvas:course:21070000000000565:user:21070000000000001');
      expect(e.membership.roles).toBeUndefined();
    }
  });
});

describe('group contexts', () => {
  it('CourseSection context → CourseSection group and membership', () => {
    const e = event(userEvent('wiki_page_created', page, { context_type: 'CourseSection', context_id: '7972', context_role: 'StudentEnrollment' }));
    expect(e.group).toEqual({ id: 'urn:instructure:canvas:course_section:7972', type: 'CourseSection', extensions: { 'com.instructure.canvas': { context_type: 'CourseSection', entity_id: '7972' } } });
    expect(e.membership.id).toBe('urn:instructure:canvas:course_section:7972:Learner:21070000000000001');
    expect(e.membership.organization).toEqual({ id: 'urn:instructure:canvas:course_section:7972', type: 'CourseSection' });
  });

  it('a section inside its course (enrollments) → course:<id>:section:<id>, a sub-organization of the course', () => {
    const e = event(userEvent('enrollment_created', { enrollment_id: '46825', course_id: '565', course_section_id: '4811', type: 'StudentEnrollment' }, { context_role: null }));
    expect(e.group.id).toBe('urn:instructure:canvas:course:565:section:4811');
    expect(e.membership.organization.subOrganizationOf).toEqual({ id: 'urn:instructure:canvas:course:565', type: 'CourseOffering' });
  });

  it('Group context → Group group, GroupMembership → Member', () => {
    const e = event(userEvent('wiki_page_created', page, { context_type: 'Group', context_id: '6296', context_role: 'GroupMembership' }));
    expect(e.group).toEqual({ id: 'urn:instructure:canvas:group:6296', type: 'Group', extensions: { 'com.instructure.canvas': { context_type: 'Group', entity_id: '6296' } } });
    expect(e.membership.id).toBe('urn:instructure:canvas:group:6296:Member:21070000000000001');
    expect(e.membership.roles).toEqual(['Member']);
  });

  it.each(['Account', 'User'])('%s context → no group and no membership', (contextType) => {
    const e = event(userEvent('wiki_page_created', page, { context_type: contextType, context_id: '1', context_role: 'AccountAdmin' }));
    expect(e.group).toBeUndefined();
    expect(e.membership).toBeUndefined();
  });

  it('no context → no group and no membership', () => {
    const e = event(without(userEvent('wiki_page_created', page), 'context_type', 'context_id', 'context_role'));
    expect(e.group).toBeUndefined();
    expect(e.membership).toBeUndefined();
  });

  it('the object’s own context (body) wins over the request’s (metadata)', () => {
    const e = event(userEvent('discussion_topic_created', { discussion_topic_id: '9', context_type: 'Group', context_id: '77' }));
    expect(e.group.id).toBe('urn:instructure:canvas:group:77');
  });
});

describe('values', () => {
  it('missing optional fields and nulls are left out, never emitted as null', () => {
    const e = event(userEvent('assignment_created', { assignment_id: '371', title: null, description: null, due_at: null }, { referrer: null, user_sis_id: null }));
    expect(e.object).toEqual({ id: 'urn:instructure:canvas:assignment:371', type: 'AssignableDigitalResource', extensions: { 'com.instructure.canvas': { entity_id: '371' } } });
    expect(e.referrer).toBeUndefined();
    expect(ext(e.actor)).not.toHaveProperty('user_sis_id');
    expect(JSON.stringify(e)).not.toContain('null');
  });

  it.each([
    ['2019-11-05 07:38:00 -0800', '2019-11-05T15:38:00.000Z'],
    ['2019-11-05T13:38:00+01:00', '2019-11-05T12:38:00.000Z'],
    ['2019-11-05T13:38:00Z', '2019-11-05T13:38:00.000Z'],
    ['2019-11-05T13:38:00.2Z', '2019-11-05T13:38:00.200Z'],
    ['2019-11-05T13:38:00.123456Z', '2019-11-05T13:38:00.123Z'],
    ['2019-11-05T13:38:00', '2019-11-05T13:38:00.000Z'],
  ])('timestamp %s → %s', (input, expected) => {
    const e = event(userEvent('assignment_created', { assignment_id: '1', due_at: input }, { event_time: input }));
    expect(e.object.dateToSubmit).toBe(expected);
    expect(e.eventTime).toBe(expected);
  });

  it('numeric ids become strings', () => {
    const e = event(userEvent('assignment_override_created', { assignment_override_id: 1, assignment_id: 1035, course_section_id: 7 }, { user_id: 42, context_id: 565 }));
    expect(e.object.id).toBe('urn:instructure:canvas:assignment_override:1');
    expect(ext(e.object)).toMatchObject({ entity_id: '1', assignment_id: '1035', course_section_id: '7' });
    expect(e.actor.id).toBe('urn:instructure:canvas:user:42');
    expect(e.group.id).toBe('urn:instructure:canvas:course:565');
  });

  it('query values not on Canvas’s allowlist are masked: request_url, referrer, and URLs in the body', () => {
    const e = event(
      userEvent('asset_accessed', { asset_type: 'context_external_tool', asset_id: '1', url: 'https://tool.example.com/lti?api_key=abc&x=1' }, {
        url: 'https://oxana.instructure.com/api/v1/courses/565?access_token=187~tD3nCQ&per_page=33',
        referrer: 'https://oxana.instructure.com/files/1/download?download_frd=1&verifier=O2rxkk4BuQ#token=zz',
      }),
    );
    expect(ext(e).request_url).toBe('https://oxana.instructure.com/api/v1/courses/565?access_token=[FILTERED]&per_page=33');
    expect(e.referrer).toBe('https://oxana.instructure.com/files/1/download?download_frd=1&verifier=[FILTERED]#token=[FILTERED]');
    expect(ext(e.object).url).toBe('https://tool.example.com/lti?api_key=[FILTERED]&x=[FILTERED]');
    const submitted = event(userEvent('submission_created', { submission_id: '1', assignment_id: '2', url: 'https://x.example/?Signature=s3cr3t&a=b' }));
    expect(ext(submitted.object).url).toBe('https://x.example/?Signature=[FILTERED]&a=[FILTERED]');
    expect(JSON.stringify([e, submitted])).not.toMatch(/187~|O2rxkk|abc&|s3cr3t/);
  });

  it('every output of these rules is valid Caliper', () => {
    const raw = userEvent('wiki_page_created', page, { context_type: 'Group', context_id: '6296', context_role: 'GroupMembership' });
    expect(validateEnvelope(mapEvent(raw, { sendTime: SEND_TIME }))).toEqual({ ok: true });
  });
});
