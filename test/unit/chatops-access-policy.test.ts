import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type AccessPolicy,
  type AccessPrincipal,
  authorize,
  clustersVisibleTo,
  DENY_ALL,
  notifyChannelOf,
  parseAccessPolicy,
  requiresApproval,
} from '../../shared/chatops/access-policy.js';
import { ConfigurationError } from '../../shared/errors.js';
import { mentionsAsText } from '../../shared/chatops/mentions.js';
import { escapeMrkdwn } from '../../shared/chatops/render.js';
import type { AccessLevel } from '../../shared/chatops/types.js';

const EXAMPLE = JSON.stringify({
  groups: { sre: ['slack:T0123:U0AAA', 'slack:E0ORG:U0BBB'], platform: ['iam:arn:aws:iam::111122223333:role/platform-*'] },
  clusters: {
    prod: { read: ['channel:T0123:C0PROD', 'group:sre'], act: ['group:sre'], approve: ['group:sre', 'slack:T0123:U0CCC'], channels: ['C0PROD'], notify: 'C0PROD', requireApproval: true },
    staging: { read: ['group:platform'], act: ['group:platform', 'group:sre'] },
    '*': { read: ['*'], notify: 'C0OPS' },
  },
});
const policy = parseAccessPolicy(EXAMPLE);

const slack = (team: string, user: string, channel = 'C0PROD', enterprise?: string): AccessPrincipal => ({ id: `slack:${team}:${user}`, display: `<@${user}>`, channel, via: 'slack', ...(enterprise ? { enterprise } : {}) });
const iam = (arn: string, via: 'lambda' | 'cli' = 'cli'): AccessPrincipal => ({ id: `iam:${arn}`, display: arn, via });

const AAA = slack('T0123', 'U0AAA');
const AAA_OTHER_TEAM = slack('T9999', 'U0AAA');
const BBB_ANY_TEAM = slack('T7777', 'U0BBB', 'C0PROD', 'E0ORG');
const BBB_OUTSIDE_ORG = slack('T7777', 'U0BBB');
const ZZZ_OTHER_TEAM = slack('T9999', 'U0ZZZ');
const CCC = slack('T0123', 'U0CCC');
const ZZZ = slack('T0123', 'U0ZZZ');
const ZZZ_ELSEWHERE = slack('T0123', 'U0ZZZ', 'C0RANDOM');
const AAA_ELSEWHERE = slack('T0123', 'U0AAA', 'C0RANDOM');
const PLATFORM = iam('arn:aws:iam::111122223333:role/platform-deployer');
const PLATFORM_OTHER_ACCOUNT = iam('arn:aws:iam::999999999999:role/platform-deployer');
const OTHER_ROLE = iam('arn:aws:iam::111122223333:role/developer', 'lambda');

describe('Access policy: authorize', () => {
  const table: [name: string, who: AccessPrincipal, level: AccessLevel, cluster: string | undefined, allowed: boolean][] = [
    ['a group member named with team and user acts on prod', AAA, 'act', 'prod', true],
    ['slack:<team>:<user> in a group does not cover the same user id in another workspace', AAA_OTHER_TEAM, 'act', 'prod', false],
    ['a group member named slack:<org>:<user> acts on prod from any workspace of that Enterprise Grid org', BBB_ANY_TEAM, 'act', 'prod', true],
    ['slack:<org>:<user> does not cover the same user id outside that org', BBB_OUTSIDE_ORG, 'act', 'prod', false],
    ['channel:<team>:<channel> does not cover the same channel id in another workspace', ZZZ_OTHER_TEAM, 'read', 'prod', false],
    ['act implies read', BBB_ANY_TEAM, 'read', 'prod', true],
    ['a direct approver approves prod', CCC, 'approve', 'prod', true],
    ['approve implies read', CCC, 'read', 'prod', true],
    ['approve does not imply act', CCC, 'act', 'prod', false],
    ['anyone in the prod channel reads prod', ZZZ, 'read', 'prod', true],
    ['the channel subject grants read only', ZZZ, 'act', 'prod', false],
    ['channels restricts Slack requests: a group member elsewhere may not act on prod', AAA_ELSEWHERE, 'act', 'prod', false],
    ['channels restricts Slack requests: nor read prod', AAA_ELSEWHERE, 'read', 'prod', false],
    ['a channel subject does not match outside it', ZZZ_ELSEWHERE, 'read', 'prod', false],
    ['an IAM role matching the wildcard acts on staging', PLATFORM, 'act', 'staging', true],
    ['the IAM wildcard is a prefix: another account does not match', PLATFORM_OTHER_ACCOUNT, 'act', 'staging', false],
    ['channels does not restrict IAM principals (but prod grants them nothing)', PLATFORM, 'read', 'prod', false],
    ['an unnamed cluster falls back to *: anyone reads', OTHER_ROLE, 'read', 'dev', true],
    ['the * entry grants nothing else', OTHER_ROLE, 'act', 'dev', false],
    ['a cluster with its own entry gets nothing from *', OTHER_ROLE, 'read', 'staging', false],
    ['a Slack user reads an unnamed cluster from any channel', ZZZ_ELSEWHERE, 'read', 'dev', true],
    ['no specific cluster: allowed when some entry grants the level', PLATFORM, 'act', undefined, true],
    ['no specific cluster: refused when none does', OTHER_ROLE, 'approve', undefined, false],
    ['no specific cluster: read through *', ZZZ_ELSEWHERE, 'read', undefined, true],
  ];
  for (const [name, who, level, cluster, allowed] of table) {
    it(`${allowed ? 'allows' : 'refuses'}: ${name}`, () => {
      assert.equal(authorize(policy, who, level, cluster).allowed, allowed);
    });
  }

  it('channels: an IAM principal granted by a channel-restricted entry is not subject to channels', () => {
    const p = parseAccessPolicy(JSON.stringify({ clusters: { prod: { act: ['iam:arn:aws:iam::1:role/ops'], channels: ['C0PROD'] } } }));
    assert.deepEqual(authorize(p, iam('arn:aws:iam::1:role/ops', 'lambda'), 'act', 'prod'), { allowed: true });
  });

  it('a channel subject only matches Slack requests (only Slack proves the channel)', () => {
    const p = parseAccessPolicy(JSON.stringify({ clusters: { dev: { act: ['channel:T1:C0DEV'] } } }));
    assert.equal(authorize(p, { id: 'iam:arn:aws:iam::1:role/x', via: 'lambda', channel: 'C0DEV' }, 'act', 'dev').allowed, false);
    assert.equal(authorize(p, { id: 'slack:T1:U1', via: 'slack', channel: 'C0DEV' }, 'act', 'dev').allowed, true);
  });

  it('an unknown cluster with no * entry is refused, saying the policy grants nothing on it', () => {
    const p = parseAccessPolicy(JSON.stringify({ groups: { sre: ['slack:T1:U1'] }, clusters: { prod: { act: ['group:sre'] } } }));
    assert.deepEqual(said(authorize(p, slack('T1', 'U1'), 'read', 'dev')), { allowed: false, reason: '<@U1> may not read cluster dev: the access policy grants nothing on it' });
  });

  it('a refusal names the groups who could help, never other users', () => {
    const result = said(authorize(policy, ZZZ, 'act', 'prod'));
    assert.deepEqual(result, { allowed: false, reason: '<@U0ZZZ> may not act on cluster prod (ask someone in group sre)' });
    const approve = authorize(policy, ZZZ, 'approve', 'prod');
    assert.ok(!approve.allowed);
    assert.match(approve.reason, /group sre/);
    assert.doesNotMatch(approve.reason, /U0CCC|U0AAA|U0BBB/);
  });

  it('a refusal by channel names the allowed channels', () => {
    assert.deepEqual(said(authorize(policy, AAA_ELSEWHERE, 'act', 'prod')), {
      allowed: false,
      reason: '<@U0AAA> may not act on cluster prod from here: cluster prod can only be operated from <#C0PROD>',
    });
  });

  it('a refusal without a display names the Slack user as a mention', () => {
    const result = authorize(policy, { id: 'slack:T1:U0ZZZ', via: 'slack', channel: 'C0PROD' }, 'act', 'prod');
    assert.ok(!result.allowed && mentionsAsText(result.reason).startsWith('<@U0ZZZ> may not act on cluster prod'));
    assert.ok(!result.allowed && escapeMrkdwn(result.reason).startsWith('<@U0ZZZ> may not act'), 'the service names the person with a live mention');
  });

  it('DENY_ALL refuses, saying no policy is configured', () => {
    assert.deepEqual(said(authorize(DENY_ALL, AAA, 'read', 'prod')), { allowed: false, reason: '<@U0AAA> may not read cluster prod: no chat-ops access policy is configured' });
    assert.equal(authorize(DENY_ALL, AAA, 'read', undefined).allowed, false);
  });
});

/** A result with the service's mentions as text (`<@U…>`), as the CLI and the audit trail read it. */
function said(result: ReturnType<typeof authorize>): ReturnType<typeof authorize> {
  return result.allowed ? result : { ...result, reason: mentionsAsText(result.reason) };
}

describe('Access policy: clustersVisibleTo, notify, approval', () => {
  it('lists the clusters a principal may read or act on, in the given order', () => {
    const all = ['prod', 'staging', 'dev'];
    assert.deepEqual(clustersVisibleTo(policy, AAA, 'read', all), ['prod', 'staging', 'dev']);
    assert.deepEqual(clustersVisibleTo(policy, AAA, 'act', all), ['prod', 'staging']);
    assert.deepEqual(clustersVisibleTo(policy, AAA_ELSEWHERE, 'act', all), ['staging']);
    assert.deepEqual(clustersVisibleTo(policy, PLATFORM, 'read', all), ['staging', 'dev']);
    assert.deepEqual(clustersVisibleTo(policy, OTHER_ROLE, 'act', all), []);
    assert.deepEqual(clustersVisibleTo(DENY_ALL, AAA, 'read', all), []);
  });

  it('notify and requireApproval come from the cluster entry, else *, else nothing', () => {
    assert.equal(notifyChannelOf(policy, 'prod'), 'C0PROD');
    assert.equal(notifyChannelOf(policy, 'dev'), 'C0OPS');
    assert.equal(notifyChannelOf(policy, 'staging'), undefined);
    assert.equal(notifyChannelOf(DENY_ALL, 'prod'), undefined);
    assert.equal(requiresApproval(policy, 'prod'), true);
    assert.equal(requiresApproval(policy, 'dev'), false);
    assert.equal(requiresApproval(DENY_ALL, 'prod'), false);
  });
});

describe('Access policy: parseAccessPolicy', () => {
  const problems = (json: string): string => {
    try {
      parseAccessPolicy(json);
    } catch (error) {
      assert.ok(error instanceof ConfigurationError);
      return error.message;
    }
    assert.fail('expected a ConfigurationError');
  };

  it('parses the example, defaulting groups', () => {
    assert.deepEqual(parseAccessPolicy('{"clusters":{"*":{"read":["*"]}}}'), { groups: {}, clusters: { '*': { read: ['*'] } } });
  });

  it('rejects bad JSON', () => {
    assert.match(problems('{"clusters":'), /access policy is not JSON/);
  });

  it('rejects an unknown group, naming it and where it is used', () => {
    assert.match(problems('{"clusters":{"prod":{"act":["group:sre"]}}}'), /clusters\.prod\.act\.0: unknown group "sre"/);
  });

  it('rejects malformed subjects of every kind', () => {
    for (const bad of ['user:U1', 'slack:u0lower', 'slack:T1:U1:X', 'slack:U1:U2', 'channel:T1:C1:X', 'iam:role/x', 'iam:arn:aws:iam::1:role/*/x', 'channel:#general', 'U0AAA', '']) {
      assert.match(problems(JSON.stringify({ clusters: { prod: { read: [bad] } } })), /clusters\.prod\.read\.0: /, bad);
    }
  });

  it('refuses Slack grants that name no workspace, saying how to write them (another workspace with the same app would match)', () => {
    const message = problems(JSON.stringify({ groups: { sre: ['slack:U0BOB'] }, clusters: { prod: { read: ['channel:C0OPS', 'group:sre'] } } }));
    assert.match(message, /groups\.sre\.0: "slack:U0BOB" names no workspace: write slack:<team id>:U0BOB/);
    assert.match(message, /clusters\.prod\.read\.0: "channel:C0OPS" names no workspace: write channel:<team id>:C0OPS/);
  });

  it('rejects a group inside a group (no nesting)', () => {
    assert.match(problems('{"groups":{"a":["slack:T1:U1"],"b":["group:a"]},"clusters":{}}'), /groups\.b\.0: "group:a": a group cannot contain a group/);
  });

  it('rejects unknown keys (a typo grants nothing silently otherwise)', () => {
    assert.match(problems('{"clusters":{"prod":{"aprove":["*"]}}}'), /clusters\.prod: Unrecognized key: "aprove"/);
  });

  it('reports every problem at once, schema and groups alike', () => {
    const message = problems('{"groups":{"sre":"slack:U1"},"clusters":{"prod":{"act":["group:ops","bogus"],"requireApproval":"yes"}}}');
    assert.match(message, /groups\.sre/);
    assert.match(message, /unknown group "ops"/);
    assert.match(message, /clusters\.prod\.act\.1/);
    assert.match(message, /requireApproval/);
  });
});

describe('Access policy: properties', () => {
  const principalArb: fc.Arbitrary<AccessPrincipal> = fc.oneof(
    fc.record({
      id: fc.tuple(fc.constantFrom('T1', 'T2'), fc.constantFrom('U1', 'U2', 'U3')).map(([t, u]) => `slack:${t}:${u}`),
      channel: fc.option(fc.constantFrom('C1', 'C2'), { nil: undefined }),
      via: fc.constant('slack' as const),
    }),
    fc.record({
      id: fc.constantFrom('iam:arn:aws:iam::1:role/ops-a', 'iam:arn:aws:iam::1:role/dev', 'iam:arn:aws:iam::2:role/ops-a'),
      channel: fc.option(fc.constantFrom('C1', 'C2'), { nil: undefined }),
      via: fc.constantFrom('lambda' as const, 'cli' as const),
    }),
  );
  const levelArb = fc.constantFrom<AccessLevel>('read', 'act', 'approve');
  const clusterArb = fc.option(fc.constantFrom('prod', 'dev', 'other'), { nil: undefined });
  const baseSubjects = ['*', 'slack:T2:U1', 'slack:T1:U2', 'slack:T2:U3', 'iam:arn:aws:iam::1:role/ops-*', 'iam:arn:aws:iam::1:role/dev', 'channel:T1:C1', 'channel:T2:C2'];
  const subjectArb = fc.constantFrom(...baseSubjects, 'group:g1', 'group:g2');
  const subjectsArb = fc.option(fc.uniqueArray(subjectArb, { maxLength: 3 }), { nil: undefined });
  const entryArb = fc.record(
    { read: subjectsArb, act: subjectsArb, approve: subjectsArb, channels: fc.option(fc.uniqueArray(fc.constantFrom('C1', 'C2'), { maxLength: 2 }), { nil: undefined }) },
    { requiredKeys: [] },
  );
  const policyArb: fc.Arbitrary<AccessPolicy> = fc
    .record({
      groups: fc.record({ g1: fc.uniqueArray(fc.constantFrom(...baseSubjects), { maxLength: 3 }), g2: fc.uniqueArray(fc.constantFrom(...baseSubjects), { maxLength: 3 }) }),
      clusters: fc.dictionary(fc.constantFrom('prod', 'dev', '*'), entryArb, { maxKeys: 3 }),
    })
    // through the parser, so every generated policy is one an operator could write
    .map((p) => parseAccessPolicy(JSON.stringify(p)));

  it('DENY_ALL never allows anything', () => {
    fc.assert(
      fc.property(principalArb, levelArb, clusterArb, (who, level, cluster) => !authorize(DENY_ALL, who, level, cluster).allowed),
      { numRuns: 2000 },
    );
  });

  it('whoever may act or approve may read', () => {
    fc.assert(
      fc.property(policyArb, principalArb, clusterArb, (p, who, cluster) => {
        for (const level of ['act', 'approve'] as const) {
          if (authorize(p, who, level, cluster).allowed) assert.equal(authorize(p, who, 'read', cluster).allowed, true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('granting a subject act never makes read (or act) refused', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom('prod', 'dev', '*'), subjectArb, principalArb, clusterArb, (p, key, subject, who, cluster) => {
        // granting into an existing entry: a new entry would replace `*` for that cluster
        fc.pre(Object.hasOwn(p.clusters, key));
        const entry = p.clusters[key]!;
        const granted = parseAccessPolicy(JSON.stringify({ ...p, clusters: { ...p.clusters, [key]: { ...entry, act: [...(entry.act ?? []), subject] } } }));
        if (authorize(p, who, 'read', cluster).allowed) assert.equal(authorize(granted, who, 'read', cluster).allowed, true);
        if (authorize(p, who, 'act', cluster).allowed) assert.equal(authorize(granted, who, 'act', cluster).allowed, true);
      }),
      { numRuns: 2000 },
    );
  });
});
