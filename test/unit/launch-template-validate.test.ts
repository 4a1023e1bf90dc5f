import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import { unmergeableToml } from '../../shared/launch-templates/bottlerocket-toml.js';
import { LaunchTemplateValidationError } from '../../shared/errors.js';
import type { ClusterConnection, NodeImageFamily } from '../../shared/launch-templates/types.js';
import { renderUserData } from '../../shared/launch-templates/user-data.js';
import { assertValidLaunchTemplate, LAUNCH_TEMPLATE_RULES, validateLaunchTemplate, type ValidateLaunchTemplateInput } from '../../shared/launch-templates/validate.js';
import { NodeLifecycleError } from '../../shared/errors.js';

const cluster: ClusterConnection = {
  name: 'prod',
  endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  certificateAuthority: 'Y2VydGlmaWNhdGVBdXRob3JpdHk=',
  serviceIpv4Cidr: '10.100.0.0/16',
};

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** A managed node group template with its own AMI and a full bootstrap: breaks nothing. */
function cleanInput(family: NodeImageFamily = 'al2023', overrides: Partial<RequestLaunchTemplateData> = {}): ValidateLaunchTemplateInput {
  const userDataDecoded = renderUserData({ family, mode: 'full-bootstrap', cluster, maxPods: 29 });
  return {
    data: {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 'm5.large',
      SecurityGroupIds: ['sg-1'],
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
      UserData: base64(userDataDecoded),
      ...overrides,
    },
    managedNodeGroup: true,
    family,
    cluster,
    userDataDecoded,
  };
}

const rules = (input: ValidateLaunchTemplateInput) => validateLaunchTemplate(input).map((v) => v.rule);

describe('validateLaunchTemplate', () => {
  for (const family of ['al2', 'al2023', 'bottlerocket', 'windows'] as const) {
    it(`finds nothing wrong with a clean ${family} template, managed or self-managed`, () => {
      assert.deepEqual(rules(cleanInput(family)), []);
      assert.deepEqual(rules({ ...cleanInput(family), managedNodeGroup: false }), []);
    });
  }

  it('finds nothing wrong with a managed group that lets EKS merge (no AMI, no bootstrap)', () => {
    const userDataDecoded = renderUserData({ family: 'bottlerocket', mode: 'eks-merges', cluster, existing: '[settings.kubernetes]\nmax-pods = 20\n' });
    const input: ValidateLaunchTemplateInput = { data: { InstanceType: 'm5.large', UserData: base64(userDataDecoded) }, managedNodeGroup: true, family: 'bottlerocket', cluster, userDataDecoded };
    assert.deepEqual(rules(input), []);
  });

  const trips: [rule: keyof typeof LAUNCH_TEMPLATE_RULES, input: () => ValidateLaunchTemplateInput][] = [
    ['mng-subnet-in-network-interface', () => cleanInput('al2023', { SecurityGroupIds: undefined, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-1' }] })],
    ['mng-iam-instance-profile', () => cleanInput('al2023', { IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/nodes' } })],
    ['mng-shutdown-behavior', () => cleanInput('al2023', { InstanceInitiatedShutdownBehavior: 'terminate' })],
    ['mng-hibernation', () => cleanInput('al2023', { HibernationOptions: { Configured: true } })],
    ['security-groups-both-levels', () => cleanInput('al2023', { NetworkInterfaces: [{ DeviceIndex: 0, Groups: ['sg-2'] }] })],
    ['mng-multiple-instance-types', () => cleanInput('al2023', { InstanceType: undefined, InstanceRequirements: { VCpuCount: { Min: 2 }, MemoryMiB: { Min: 4096 } } })],
    ['imds-hop-limit', () => cleanInput('al2023', { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } })],
    ['user-data-too-large', () => {
      const userDataDecoded = renderUserData({ family: 'al2', mode: 'full-bootstrap', cluster, existing: `#!/bin/bash\n${'echo padding-padding-padding\n'.repeat(500)}` });
      return { ...cleanInput('al2', { UserData: base64(userDataDecoded) }), userDataDecoded };
    }],
    ['bottlerocket-toml-unmergeable', () => {
      const userDataDecoded = 'numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n';
      return { data: { UserData: base64(userDataDecoded) }, managedNodeGroup: true, family: 'bottlerocket', cluster, userDataDecoded };
    }],
    ['bootstrap-cluster-mismatch', () => ({ ...cleanInput('al2'), cluster: { ...cluster, endpoint: 'https://XYZ.gr7.eu-west-1.eks.amazonaws.com' } })],
    ['bootstrap-missing', () => {
      const userDataDecoded = renderUserData({ family: 'windows', mode: 'eks-merges', cluster, existing: '<powershell>\nWrite-Host hi\n</powershell>\n' });
      return { ...cleanInput('windows', { UserData: base64(userDataDecoded) }), userDataDecoded };
    }],
    ['bootstrap-in-merged-user-data', () => ({ ...cleanInput('al2023', { ImageId: undefined }) })],
    ['user-data-unparseable', () => ({ ...cleanInput('bottlerocket'), userDataDecoded: '[settings.kubernetes\n' })],
  ];

  for (const [rule, input] of trips) {
    it(`trips ${rule}`, () => {
      assert.ok(rules(input()).includes(rule), `${rule} not in ${JSON.stringify(validateLaunchTemplate(input()))}`);
    });
  }

  it('has a tripping test for every rule', () => {
    assert.deepEqual(new Set(trips.map(([r]) => r)), new Set(Object.keys(LAUNCH_TEMPLATE_RULES)));
  });

  it('does not hold a self-managed group to the managed-only rules', () => {
    const input = cleanInput('al2023', { IamInstanceProfile: { Name: 'nodes' }, InstanceInitiatedShutdownBehavior: 'terminate', HibernationOptions: { Configured: true }, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-1' }], SecurityGroupIds: undefined });
    assert.deepEqual(rules({ ...input, managedNodeGroup: false }), []);
  });

  it('reads a user-written AL2 bootstrap with another CA as a mismatch', () => {
    const userDataDecoded = "#!/bin/bash\n/etc/eks/bootstrap.sh prod --b64-cluster-ca 'T1RIRVI=' --apiserver-endpoint https://ABC.gr7.eu-west-1.eks.amazonaws.com/\n";
    const found = validateLaunchTemplate({ ...cleanInput('al2', { UserData: base64(userDataDecoded) }), userDataDecoded });
    assert.deepEqual(found.map((v) => v.rule), ['bootstrap-cluster-mismatch']);
    assert.match(found[0]!.message, /certificate authority/);
  });
});

describe('assertValidLaunchTemplate', () => {
  it('throws LaunchTemplateValidationError naming the rule', () => {
    const input = cleanInput('al2023', { MetadataOptions: { HttpTokens: 'required' } });
    assert.throws(() => assertValidLaunchTemplate(input), (error: unknown) => {
      assert.ok(error instanceof LaunchTemplateValidationError);
      assert.ok(error instanceof NodeLifecycleError);
      assert.equal(error.name, 'LaunchTemplateValidationError');
      assert.equal(error.rule, 'imds-hop-limit');
      assert.equal(error.retryable, false);
      assert.match(error.message, /imds-hop-limit/);
      return true;
    });
  });

  it('returns quietly for a clean template', () => {
    assert.doesNotThrow(() => assertValidLaunchTemplate(cleanInput('bottlerocket')));
  });
});

describe('unmergeableToml: the TOML EKS cannot merge (EKS user guide)', () => {
  const cases: [string, string][] = [
    ['quotes-in-quoted-key', `'quoted "value"' = "value"\n`],
    ['escaped-quote-in-value', `str = "I'm a string. \\"You can quote me\\""\n`],
    ['mixed-int-float-array', 'numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n'],
    ['mixed-type-array', 'contributors = ["foo@example.com", { name = "Baz", email = "baz@example.com" }]\n'],
    ['quoted-key-in-table-header', '[foo."bar.baz"]\nx = 1\n'],
  ];
  for (const [construct, text] of cases) {
    it(`finds ${construct}`, () => {
      assert.deepEqual(unmergeableToml(text).map((f) => f.construct), [construct]);
    });
  }

  it('accepts ordinary Bottlerocket settings, multi-line arrays and quoted label keys', () => {
    const text = [
      '[settings.kubernetes]',
      'max-pods = 29',
      '"node.example.com/x" = "y"',
      'cluster-dns-ip = [',
      '  "10.100.0.10", # comment with "quotes"',
      '  "10.100.0.11",',
      ']',
      'floats = [1.0, 2.5]',
      "path = 'C:\\dir'",
      '',
      '[settings.kubernetes.node-labels]',
      'team = "a"',
    ].join('\n');
    assert.deepEqual(unmergeableToml(text), []);
  });

  it('reports the line of a construct inside a multi-line array', () => {
    assert.deepEqual(unmergeableToml('a = 1\nb = [\n  1,\n  "x",\n]\n'), [{ construct: 'mixed-type-array', line: 2 }]);
  });
});
