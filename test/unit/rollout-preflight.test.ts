import { readYaml } from '../../shared/yaml/read-yaml.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  findRoleMapping,
  judgePreflight,
  type PreflightCheckName,
  type PreflightFacts,
  type ResolvedNodeRole,
  roleArnWithoutPath,
} from '../../shared/rollout/preflight.js';

const ROLE = 'arn:aws:iam::111122223333:role/web-node';
const POLICIES = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
  'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
];
const NODE_GROUPS = ['system:bootstrappers', 'system:nodes'];

function role(overrides: Partial<ResolvedNodeRole> = {}): ResolvedNodeRole {
  return {
    status: 'resolved',
    instanceProfile: 'web-node',
    roleArn: ROLE,
    os: 'linux',
    authenticationMode: 'API_AND_CONFIG_MAP',
    accessEntry: { type: 'EC2_LINUX', kubernetesGroups: [] },
    attachedPolicies: POLICIES,
    ...overrides,
  };
}

/** A self-managed group for which every check passes; each case below breaks one thing. */
function healthy(overrides: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    cluster: 'prod',
    group: { kind: 'self-managed', name: 'web' },
    surge: 3,
    image: { imageId: 'ami-0123456789abcdef0', found: true, state: 'available', name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261120' },
    launchTemplate: { status: 'valid', launchTemplateId: 'lt-0aaa', version: 1, family: 'al2023' },
    nodeRole: role(),
    subnets: {
      status: 'read',
      subnets: [
        { subnetId: 'subnet-a', availabilityZone: 'eu-west-1a', freeAddresses: 2 },
        { subnetId: 'subnet-b', availabilityZone: 'eu-west-1b', freeAddresses: 1 },
      ],
    },
    ...overrides,
  };
}

function failed(facts: PreflightFacts): PreflightCheckName[] {
  return judgePreflight(facts).checks.filter((c) => !c.ok).map((c) => c.name);
}

function check(facts: PreflightFacts, name: PreflightCheckName) {
  return judgePreflight(facts).checks.find((c) => c.name === name)!;
}

describe('Rollout preflight: the judge', () => {
  it('passes a healthy self-managed group, with the five checks in order', () => {
    const report = judgePreflight(healthy());
    assert.equal(report.ok, true);
    assert.deepEqual(report.checks.map((c) => c.name), ['image-available', 'launch-template-valid', 'node-role-can-join', 'node-role-policies', 'subnet-addresses']);
    assert.match(report.summary, /^preflight passed: prod\/web/);
  });

  const cases: { why: string; facts: PreflightFacts; fails: PreflightCheckName; detail: RegExp; fix?: RegExp }[] = [
    {
      why: 'the image is gone',
      facts: healthy({ image: { imageId: 'ami-0123456789abcdef0', found: false } }),
      fails: 'image-available',
      detail: /ami-0123456789abcdef0 does not exist or is not visible/,
    },
    {
      why: 'the image is still pending',
      facts: healthy({ image: { imageId: 'ami-0123456789abcdef0', found: true, state: 'pending' } }),
      fails: 'image-available',
      detail: /is pending/,
      fix: /wait until the image is available/,
    },
    {
      why: 'the new template version would break an EKS rule',
      facts: healthy({ launchTemplate: { status: 'invalid', launchTemplateId: 'lt-0aaa', version: 4, violations: [{ rule: 'imds-hop-limit', message: 'hop limit 1' }] } }),
      fails: 'launch-template-valid',
      detail: /\[imds-hop-limit\] hop limit 1/,
      fix: /correct lt-0aaa version 4/,
    },
    {
      why: 'the template version does not exist',
      facts: healthy({ launchTemplate: { status: 'missing', reason: 'launch template lt-0aaa version 9 does not exist' } }),
      fails: 'launch-template-valid',
      detail: /version 9 does not exist/,
    },
    {
      why: 'the role has no access entry on an API-only cluster',
      facts: healthy({ nodeRole: role({ authenticationMode: 'API', accessEntry: null }) }),
      fails: 'node-role-can-join',
      detail: /web-node is not mapped: it has no access entry in cluster prod, whose authentication mode API does not read aws-auth/,
      fix: /^aws eks create-access-entry --cluster-name prod --principal-arn arn:aws:iam::111122223333:role\/web-node --type EC2_LINUX$/,
    },
    {
      why: 'the role is neither an access entry nor in aws-auth',
      facts: healthy({ nodeRole: role({ accessEntry: null, awsAuth: { status: 'read' } }) }),
      fails: 'node-role-can-join',
      detail: /is not mapped: it has no access entry in cluster prod, and it is not in the mapRoles of kube-system\/aws-auth/,
      fix: /create-access-entry[\s\S]*- rolearn: arn:aws:iam::111122223333:role\/web-node\n  username: system:node:\{\{EC2PrivateDNSName\}\}\n  groups:\n    - system:bootstrappers\n    - system:nodes/,
    },
    {
      why: 'a CONFIG_MAP cluster has no aws-auth at all',
      facts: healthy({ nodeRole: role({ authenticationMode: 'CONFIG_MAP', accessEntry: undefined, awsAuth: { status: 'absent' } }) }),
      fails: 'node-role-can-join',
      detail: /cluster prod reads only aws-auth, and there is no kube-system\/aws-auth ConfigMap/,
    },
    {
      why: 'the aws-auth entry lacks system:bootstrappers',
      facts: healthy({ nodeRole: role({ authenticationMode: 'CONFIG_MAP', accessEntry: undefined, awsAuth: { status: 'read', mapping: { rolearn: ROLE, groups: ['system:nodes'] } } }) }),
      fails: 'node-role-can-join',
      detail: /lacks the group system:bootstrappers/,
    },
    {
      why: 'a Windows role is mapped without eks:kube-proxy-windows',
      facts: healthy({ nodeRole: role({ os: 'windows', accessEntry: null, awsAuth: { status: 'read', mapping: { rolearn: ROLE, username: 'system:node:{{EC2PrivateDNSName}}', groups: NODE_GROUPS } } }) }),
      fails: 'node-role-can-join',
      detail: /lacks the group eks:kube-proxy-windows \(Windows nodes need it/,
      fix: /    - eks:kube-proxy-windows/,
    },
    {
      why: 'a Windows role has a Linux access entry',
      facts: healthy({ nodeRole: role({ os: 'windows' }) }),
      fails: 'node-role-can-join',
      detail: /type EC2_LINUX .* windows nodes need type EC2_WINDOWS/,
      fix: /delete-access-entry .* && aws eks create-access-entry .* --type EC2_WINDOWS/,
    },
    {
      why: 'aws-auth names the role with its path',
      facts: healthy({
        nodeRole: role({ roleArn: 'arn:aws:iam::111122223333:role/nodes/web-node', accessEntry: null, awsAuth: { status: 'read', mappedWithPath: 'arn:aws:iam::111122223333:role/nodes/web-node' } }),
      }),
      fails: 'node-role-can-join',
      detail: /with its path, but the authenticator only matches arn:aws:iam::111122223333:role\/web-node/,
      fix: /- rolearn: arn:aws:iam::111122223333:role\/web-node\n/,
    },
    {
      why: 'aws-auth cannot be read for want of RBAC',
      facts: healthy({ nodeRole: role({ accessEntry: null, awsAuth: { status: 'unreadable', reason: 'HTTP 403' } }) }),
      fails: 'node-role-can-join',
      detail: /web-node cannot be checked: it has no access entry in cluster prod, and kube-system\/aws-auth could not be read: HTTP 403/,
      fix: /get configmaps in kube-system/,
    },
    {
      why: 'aws-auth mapRoles is not a YAML list',
      facts: healthy({ nodeRole: role({ authenticationMode: 'CONFIG_MAP', accessEntry: undefined, awsAuth: { status: 'malformed', reason: 'mapRoles is not a list' } }) }),
      fails: 'node-role-can-join',
      detail: /web-node cannot be checked: cluster prod reads only aws-auth, and the mapRoles of kube-system\/aws-auth cannot be read: mapRoles is not a list/,
      fix: /^correct mapRoles, with an entry\n- rolearn: /,
    },
    {
      why: 'the role lacks the CNI policy',
      facts: healthy({ nodeRole: role({ attachedPolicies: POLICIES.filter((p) => !p.endsWith('CNI_Policy')) }) }),
      fails: 'node-role-policies',
      detail: /role web-node lacks AmazonEKS_CNI_Policy/,
      fix: /^aws iam attach-role-policy --role-name web-node --policy-arn arn:aws:iam::aws:policy\/AmazonEKS_CNI_Policy$/,
    },
    {
      why: 'a customer managed copy of a policy does not count',
      facts: healthy({ nodeRole: role({ attachedPolicies: [POLICIES[0]!, POLICIES[2]!, 'arn:aws:iam::111122223333:policy/AmazonEKS_CNI_Policy'] }) }),
      fails: 'node-role-policies',
      detail: /lacks AmazonEKS_CNI_Policy/,
    },
    {
      why: 'the subnets have fewer free addresses than the surge',
      facts: healthy({ surge: 4 }),
      fails: 'subnet-addresses',
      detail: /a surge of 4 needs 4 free addresses; the group's subnets have 3: subnet-a \(eu-west-1a\): 2 free, subnet-b \(eu-west-1b\): 1 free/,
      fix: /strategy minimal/,
    },
    {
      why: 'a subnet of the group no longer exists',
      facts: healthy({ subnets: { status: 'read', subnets: [{ subnetId: 'subnet-a', freeAddresses: 100 }, { subnetId: 'subnet-gone', freeAddresses: null }] } }),
      fails: 'subnet-addresses',
      detail: /subnet-gone: does not exist/,
    },
  ];

  for (const c of cases) {
    it(`fails ${c.fails} alone when ${c.why}`, () => {
      const report = judgePreflight(c.facts);
      assert.equal(report.ok, false);
      assert.deepEqual(failed(c.facts), [c.fails]);
      const found = check(c.facts, c.fails);
      assert.match(found.detail, c.detail);
      if (c.fix) assert.match(found.fix ?? '', c.fix);
      assert.ok(report.summary.startsWith('preflight failed for prod/web, nothing was changed: '), report.summary);
      assert.ok(report.summary.includes(found.detail), 'the summary says why');
    });
  }

  it('accepts AmazonEC2ContainerRegistryPullOnly for ReadOnly', () => {
    const facts = healthy({ nodeRole: role({ attachedPolicies: [POLICIES[0]!, POLICIES[1]!, 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly'] }) });
    assert.deepEqual(failed(facts), []);
  });

  it('lets an access entry decide over aws-auth when the cluster reads both', () => {
    // aws-auth is not read then; had it been, a missing mapping must not matter
    assert.deepEqual(failed(healthy({ nodeRole: role({ awsAuth: { status: 'read' } }) })), []);
  });

  it('accepts an aws-auth mapping on a cluster that reads both and has no access entry', () => {
    const facts = healthy({ nodeRole: role({ accessEntry: null, awsAuth: { status: 'read', mapping: { rolearn: ROLE, username: 'system:node:{{EC2PrivateDNSName}}', groups: NODE_GROUPS } } }) });
    assert.deepEqual(failed(facts), []);
    assert.match(check(facts, 'node-role-can-join').detail, /is mapped in kube-system\/aws-auth to system:bootstrappers, system:nodes/);
  });

  it('ignores aws-auth on an API-only cluster', () => {
    const facts = healthy({ nodeRole: role({ authenticationMode: 'API', accessEntry: null, awsAuth: { status: 'read', mapping: { rolearn: ROLE, groups: NODE_GROUPS } } }) });
    assert.deepEqual(failed(facts), ['node-role-can-join']);
  });

  it('skips both role checks for a managed group, saying why', () => {
    const facts = healthy({ group: { kind: 'managed', name: 'general' }, nodeRole: { status: 'skipped', reason: 'EKS grants a managed node group\'s role access itself' } });
    const report = judgePreflight(facts);
    assert.equal(report.ok, true);
    for (const name of ['node-role-can-join', 'node-role-policies'] as const) assert.match(check(facts, name).detail, /^skipped: EKS grants/);
  });

  it('fails the policy check closed when the role itself is unknown', () => {
    const facts = healthy({ nodeRole: { status: 'profile-not-found', instanceProfile: 'web-node' } });
    assert.deepEqual(failed(facts), ['node-role-can-join', 'node-role-policies']);
    assert.match(check(facts, 'node-role-can-join').fix!, /aws iam create-instance-profile --instance-profile-name web-node/);
  });

  it('does not validate the template against an image that is not available', () => {
    const facts = healthy({ image: { imageId: 'ami-0123456789abcdef0', found: false }, launchTemplate: { status: 'not-checked', reason: 'the target image ami-0123456789abcdef0 is not available' } });
    assert.deepEqual(failed(facts), ['image-available', 'launch-template-valid']);
  });

  it('needs no free address for a minimal (terminate-first) rollout', () => {
    const facts = healthy({ surge: 0, subnets: { status: 'read', subnets: [{ subnetId: 'subnet-a', freeAddresses: 0 }] } });
    assert.deepEqual(failed(facts), []);
  });

  it('passes the subnet check exactly when the free addresses cover the surge', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 6 }), fc.nat(200), (free, surge) => {
        const facts = healthy({ surge, subnets: { status: 'read', subnets: free.map((n, i) => ({ subnetId: `subnet-${i}`, freeAddresses: n })) } });
        const total = free.reduce((a, b) => a + b, 0);
        assert.equal(check(facts, 'subnet-addresses').ok, total >= surge);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Rollout preflight: reading aws-auth mapRoles', () => {
  const yaml = [
    '- rolearn: arn:aws:iam::111122223333:role/other',
    '  username: admin',
    '  groups: [system:masters]',
    '- rolearn: arn:aws:iam::111122223333:role/web-node',
    '  username: system:node:{{EC2PrivateDNSName}}',
    '  groups:',
    '    - system:bootstrappers',
    '    - system:nodes',
  ].join('\n');

  it('finds the role\'s entry among others', async () => {
    assert.deepEqual(await findRoleMapping(yaml, ROLE, readYaml), { mapping: { rolearn: ROLE, username: 'system:node:{{EC2PrivateDNSName}}', groups: NODE_GROUPS } });
  });

  it('matches a role with a path by its ARN without the path, as the authenticator does', async () => {
    assert.equal((await findRoleMapping(yaml, 'arn:aws:iam::111122223333:role/team/nodes/web-node', readYaml)).mapping?.rolearn, ROLE);
  });

  it('reports an entry written with the role\'s path, which never matches', async () => {
    const withPath = '- rolearn: arn:aws:iam::111122223333:role/team/web-node\n  groups: [system:nodes]\n';
    assert.deepEqual(await findRoleMapping(withPath, 'arn:aws:iam::111122223333:role/team/web-node', readYaml), { mappedWithPath: 'arn:aws:iam::111122223333:role/team/web-node' });
  });

  it('finds nothing in an empty or absent mapRoles, and rejects one that is not a list', async () => {
    assert.deepEqual(await findRoleMapping(undefined, ROLE, readYaml), {});
    assert.deepEqual(await findRoleMapping('', ROLE, readYaml), {});
    assert.deepEqual(await findRoleMapping('[]', ROLE, readYaml), {});
    await assert.rejects(findRoleMapping('rolearn: x', ROLE, readYaml), /not a list/);
  });

  it('drops the path, and only the path, from a role ARN', () => {
    assert.equal(roleArnWithoutPath('arn:aws-cn:iam::111122223333:role/a/b/name'), 'arn:aws-cn:iam::111122223333:role/name');
    assert.equal(roleArnWithoutPath(ROLE), ROLE);
  });
});
