import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeNodeRoleAccess, type NodeRoleAccess, type NodeRoleAccessFacts, readsAwsAuth } from '../../shared/rollout/node-role-access.js';

const ROLE = 'arn:aws:iam::111122223333:role/web-node';
const NODE = 'system:node:{{EC2PrivateDNSName}}';
const mapped = (groups: string[], username: string | undefined = NODE): NodeRoleAccessFacts['awsAuth'] => ({ status: 'read', mapping: { rolearn: ROLE, ...(username ? { username } : {}), groups } });
const facts = (overrides: Partial<NodeRoleAccessFacts>): NodeRoleAccessFacts => ({ roleArn: ROLE, os: 'linux', authenticationMode: 'API_AND_CONFIG_MAP', ...overrides });
const entry = (type: string, kubernetesGroups: string[] = []) => ({ type, kubernetesGroups });

describe('Node role access: can this role join the cluster?', () => {
  const cases: { why: string; facts: NodeRoleAccessFacts; expect: Partial<NodeRoleAccess> }[] = [
    { why: 'a Linux node with an EC2_LINUX entry', facts: facts({ accessEntry: entry('EC2_LINUX') }), expect: { canJoin: true, via: 'access-entry' } },
    { why: 'a Linux node with an EC2_WINDOWS entry (its groups include system:nodes)', facts: facts({ accessEntry: entry('EC2_WINDOWS') }), expect: { canJoin: true, via: 'access-entry' } },
    { why: 'a Windows node with an EC2_WINDOWS entry', facts: facts({ os: 'windows', accessEntry: entry('EC2_WINDOWS') }), expect: { canJoin: true } },
    { why: 'a Windows node with an EC2_LINUX entry', facts: facts({ os: 'windows', accessEntry: entry('EC2_LINUX') }), expect: { canJoin: false, problem: 'wrong-entry-type', needed: 'EC2_WINDOWS' } },
    { why: 'an EC2 node with a HYBRID_LINUX entry (hybrid nodes are named by their session)', facts: facts({ accessEntry: entry('HYBRID_LINUX') }), expect: { canJoin: false, problem: 'wrong-entry-type', needed: 'EC2_LINUX' } },
    { why: 'a STANDARD entry in system:nodes (its username cannot be system:node:…)', facts: facts({ accessEntry: entry('STANDARD', ['system:nodes']) }), expect: { canJoin: false, problem: 'wrong-entry-type' } },
    { why: 'the access entry decides over a good aws-auth mapping', facts: facts({ accessEntry: entry('STANDARD'), awsAuth: mapped(['system:bootstrappers', 'system:nodes']) }), expect: { canJoin: false, problem: 'wrong-entry-type' } },
    { why: 'no entry on an API-only cluster, whatever aws-auth says', facts: facts({ authenticationMode: 'API', accessEntry: null, awsAuth: mapped(['system:bootstrappers', 'system:nodes']) }), expect: { canJoin: false, problem: 'no-entry' } },
    { why: 'a CONFIG_MAP cluster ignores an access entry', facts: facts({ authenticationMode: 'CONFIG_MAP', accessEntry: entry('EC2_LINUX'), awsAuth: { status: 'read' } }), expect: { canJoin: false, problem: 'not-mapped' } },
    { why: 'an aws-auth mapping into both node groups', facts: facts({ accessEntry: null, awsAuth: mapped(['system:bootstrappers', 'system:nodes']) }), expect: { canJoin: true, via: 'aws-auth' } },
    { why: 'an aws-auth mapping without a username', facts: facts({ authenticationMode: 'CONFIG_MAP', awsAuth: mapped(['system:bootstrappers', 'system:nodes'], undefined) }), expect: { canJoin: true, via: 'aws-auth' } },
    { why: 'an aws-auth mapping into system:nodes alone', facts: facts({ authenticationMode: 'CONFIG_MAP', awsAuth: mapped(['system:nodes']) }), expect: { canJoin: false, problem: 'mapping-incomplete', missing: ['system:bootstrappers'] } },
    { why: 'a Windows mapping without eks:kube-proxy-windows', facts: facts({ os: 'windows', authenticationMode: 'CONFIG_MAP', awsAuth: mapped(['system:bootstrappers', 'system:nodes']) }), expect: { canJoin: false, problem: 'mapping-incomplete', missing: ['eks:kube-proxy-windows'] } },
    { why: 'a mapping with a username that is not a node\'s', facts: facts({ authenticationMode: 'CONFIG_MAP', awsAuth: mapped(['system:bootstrappers', 'system:nodes'], 'admin') }), expect: { canJoin: false, problem: 'mapping-incomplete', missing: [], username: 'admin' } },
    { why: 'a mapping that names the role with its path', facts: facts({ authenticationMode: 'CONFIG_MAP', awsAuth: { status: 'read', mappedWithPath: 'arn:aws:iam::111122223333:role/team/web-node' } }), expect: { canJoin: false, problem: 'not-mapped', mappedWithPath: 'arn:aws:iam::111122223333:role/team/web-node' } },
    { why: 'no aws-auth ConfigMap', facts: facts({ accessEntry: null, awsAuth: { status: 'absent' } }), expect: { canJoin: false, problem: 'aws-auth-absent' } },
    { why: 'aws-auth not read at all counts as absent', facts: facts({ authenticationMode: 'CONFIG_MAP' }), expect: { canJoin: false, problem: 'aws-auth-absent' } },
    { why: 'a malformed mapRoles', facts: facts({ accessEntry: null, awsAuth: { status: 'malformed', reason: 'mapRoles is not a list' } }), expect: { canJoin: false, problem: 'aws-auth-malformed' } },
    { why: 'aws-auth unreadable for want of RBAC', facts: facts({ accessEntry: null, awsAuth: { status: 'unreadable', reason: 'HTTP 403' } }), expect: { canJoin: 'unknown', problem: 'aws-auth-unreadable' } },
  ];
  for (const c of cases) {
    it(`judges ${c.why}`, () => {
      const verdict = judgeNodeRoleAccess(c.facts);
      for (const [key, value] of Object.entries(c.expect)) assert.deepEqual((verdict as Record<string, unknown>)[key], value, `${key} of ${JSON.stringify(verdict)}`);
    });
  }

  it('reads aws-auth only when it can decide', () => {
    assert.equal(readsAwsAuth('API', null), false);
    assert.equal(readsAwsAuth('API_AND_CONFIG_MAP', entry('EC2_LINUX')), false);
    assert.equal(readsAwsAuth('API_AND_CONFIG_MAP', null), true);
    assert.equal(readsAwsAuth('CONFIG_MAP', undefined), true);
  });
});
