import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decideKubernetesMinor, describeKubernetesMinor, maxKubeletSkew, minorsBetween, skewProblem } from '../../shared/ami/kubernetes-version.js';
import { readNodeGroupConfig } from '../../shared/config/node-group-config.js';
import { readNodeGroupPolicy } from '../../shared/config/node-group-policy.js';
import { judgePreflight, type PreflightFacts } from '../../shared/rollout/preflight.js';

/** Kubernetes minor versions as an explicit policy per node group (issue 15, item 4). */
const TAG = 'eks-node-lifecycle/kubernetes-version';

describe('kubernetes-version tag', () => {
  it('is pinned by default, for every group', () => {
    assert.equal(readNodeGroupPolicy({}).policy.kubernetesVersion, 'pinned');
  });

  it('reads pinned and follow-control-plane', () => {
    assert.equal(readNodeGroupPolicy({ [TAG]: 'pinned' }).policy.kubernetesVersion, 'pinned');
    assert.equal(readNodeGroupPolicy({ [TAG]: ' follow-control-plane ' }).policy.kubernetesVersion, 'follow-control-plane');
  });

  it('reads a value in another case as the listed one, with a note (config/tag-vocabulary.ts)', () => {
    const config = readNodeGroupConfig({ [TAG]: 'Follow-Control-Plane' });
    assert.equal(config.policy.kubernetesVersion, 'follow-control-plane');
    assert.deepEqual(config.problems, []);
    assert.deepEqual(config.notes, [`${TAG}=Follow-Control-Plane read as follow-control-plane; write it follow-control-plane`]);
  });

  it('reports a malformed value as a problem and keeps the minor the group runs (pinned), never following', () => {
    for (const raw of ['follow', '1.32', 'follow_control_plane', '']) {
      const { policy, problems } = readNodeGroupPolicy({ [TAG]: raw });
      assert.equal(policy.kubernetesVersion, 'pinned', raw);
      assert.deepEqual(problems, [`${TAG}=${raw} is not one of pinned, follow-control-plane; using pinned`], raw);
    }
  });
});

describe('decideKubernetesMinor', () => {
  const table: { group: string; controlPlane: string; policy: 'pinned' | 'follow-control-plane'; minor: string; behind: number; note?: RegExp }[] = [
    { group: '1.31', controlPlane: '1.31', policy: 'pinned', minor: '1.31', behind: 0 },
    { group: '1.31', controlPlane: '1.31', policy: 'follow-control-plane', minor: '1.31', behind: 0 },
    { group: '1.31', controlPlane: '1.32', policy: 'pinned', minor: '1.31', behind: 1, note: /pinned to Kubernetes 1\.31, 1 minor behind the control plane 1\.32/ },
    { group: '1.31', controlPlane: '1.32', policy: 'follow-control-plane', minor: '1.32', behind: 1, note: /follows the control plane 1\.32: Kubernetes 1\.31 → 1\.32/ },
    // one minor at a time: 1.30 nodes under 1.32 go to 1.31 first
    { group: '1.30', controlPlane: '1.32', policy: 'follow-control-plane', minor: '1.31', behind: 2, note: /Kubernetes 1\.30 → 1\.31/ },
    { group: '1.29', controlPlane: '1.32', policy: 'pinned', minor: '1.29', behind: 3, note: /3 minors behind/ },
    // never past the control plane, never down either
    { group: '1.33', controlPlane: '1.32', policy: 'follow-control-plane', minor: '1.33', behind: 0, note: /newer than the control plane/ },
    // a group whose minor cannot be told takes the control plane's (what self-managed groups always did)
    { group: '', controlPlane: '1.32', policy: 'pinned', minor: '1.32', behind: 0 },
  ];
  for (const row of table) {
    it(`${row.policy}: group ${row.group || '(unknown)'} under control plane ${row.controlPlane} → ${row.minor}`, () => {
      const decision = decideKubernetesMinor({ groupVersion: row.group, controlPlaneVersion: row.controlPlane, policy: row.policy });
      assert.equal(decision.minor, row.minor);
      assert.equal(decision.behind, row.behind);
      if (row.note) assert.match(decision.note ?? '', row.note);
      else assert.equal(decision.note, undefined);
    });
  }

  it('follows one minor at a time and never past the control plane, whatever the versions (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 40 }), fc.integer({ min: 20, max: 40 }), fc.constantFrom('pinned' as const, 'follow-control-plane' as const), (g, c, policy) => {
        const decision = decideKubernetesMinor({ groupVersion: `1.${g}`, controlPlaneVersion: `1.${c}`, policy });
        const step = minorsBetween(`1.${g}`, decision.minor)!;
        assert.ok(step === 0 || step === 1, `step ${step}`);
        if (policy === 'pinned') assert.equal(step, 0);
        if (step === 1) assert.ok(minorsBetween(decision.minor, `1.${c}`)! >= 0, 'past the control plane');
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('version skew policy', () => {
  it('allows kubelets up to 3 minors older since 1.28, 2 before; never newer', () => {
    assert.equal(maxKubeletSkew('1.28'), 3);
    assert.equal(maxKubeletSkew('1.27'), 2);
    assert.equal(skewProblem('1.29', '1.32'), undefined);
    assert.match(skewProblem('1.28', '1.32')!, /4 minors older than the control plane 1\.32; Kubernetes supports at most 3/);
    assert.match(skewProblem('1.24', '1.27')!, /at most 2/);
    assert.match(skewProblem('1.33', '1.32')!, /newer than the control plane 1\.32/);
  });
});

describe('describeKubernetesMinor (status)', () => {
  const say = (group: string, controlPlane: string, policy: 'pinned' | 'follow-control-plane') =>
    describeKubernetesMinor(decideKubernetesMinor({ groupVersion: group, controlPlaneVersion: controlPlane, policy }), controlPlane, policy);

  it('says a pinned group one minor (or more) behind', () => {
    assert.equal(say('1.32', '1.32', 'pinned'), '1.32');
    assert.equal(say('1.31', '1.32', 'pinned'), '1.31 (pinned, 1 minor behind the control plane 1.32)');
    assert.equal(say('1.28', '1.32', 'pinned'), '1.28 (pinned, 4 minors behind the control plane 1.32; unsupported: kubelet 1.28 would be 4 minors older than the control plane 1.32; Kubernetes supports at most 3)');
  });

  it('says where a following group goes next', () => {
    assert.equal(say('1.30', '1.32', 'follow-control-plane'), '1.30 (follows the control plane 1.32: next 1.31)');
  });
});

describe('Preflight: kubernetes-version', () => {
  const BASE: PreflightFacts = {
    cluster: 'prod', group: { kind: 'self-managed', name: 'web' }, surge: 1,
    image: { imageId: 'ami-0123456789abcdef0', found: true, state: 'available' },
    launchTemplate: { status: 'not-needed', reason: 'EKS picks the image' }, nodeRole: { status: 'skipped', reason: 'test' },
    subnets: { status: 'read', subnets: [{ subnetId: 'subnet-a', freeAddresses: 5 }] },
  };
  const facts = (kubernetesVersion: PreflightFacts['kubernetesVersion']): PreflightFacts => (kubernetesVersion ? { ...BASE, kubernetesVersion } : BASE);
  const check = (k: PreflightFacts['kubernetesVersion']) => judgePreflight(facts(k)).checks.find((c) => c.name === 'kubernetes-version')!;

  it('passes one minor up to the control plane, saying add-ons were not checked', () => {
    const c = check({ controlPlane: '1.32', current: '1.31', target: '1.32' });
    assert.equal(c.ok, true);
    assert.match(c.detail, /1\.31 → 1\.32.*add-on compatibility not checked/);
  });

  it('passes the same minor', () => {
    assert.equal(check({ controlPlane: '1.32', current: '1.31', target: '1.31' }).ok, true);
  });

  it('refuses kubelets newer than the control plane, two minors at once, a downgrade, and too old a kubelet', () => {
    const newer = check({ controlPlane: '1.31', current: '1.31', target: '1.32' });
    assert.equal(newer.ok, false);
    assert.match(newer.detail, /never supports/);
    assert.match(newer.fix!, /update-cluster-version/);
    const jump = check({ controlPlane: '1.32', current: '1.30', target: '1.32' });
    assert.equal(jump.ok, false);
    assert.match(jump.fix!, /Kubernetes 1\.31 first/);
    assert.equal(check({ controlPlane: '1.32', current: '1.32', target: '1.31' }).ok, false);
    assert.equal(check({ controlPlane: '1.32', current: '1.28', target: '1.28' }).ok, false);
  });

  it('does not judge an image that does not say its minor, and is absent from facts that do not carry it', () => {
    assert.equal(check({ controlPlane: '1.32' }).ok, true);
    assert.equal(judgePreflight(facts(undefined)).checks.some((c) => c.name === 'kubernetes-version'), false);
  });
});
