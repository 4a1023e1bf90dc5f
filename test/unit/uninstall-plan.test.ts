import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type InstallationFacts, planUninstall } from '../../scripts/deploy/uninstall.js';

const ROLE = (name: string) => `arn:aws:iam::111122223333:role/${name}`;

function facts(over: Partial<InstallationFacts> = {}): InstallationFacts {
  return { stage: 'dev', groups: [], nodegroupTemplates: [], templates: [], accessEntries: [], ...over };
}

describe('Uninstall: the plan', () => {
  it("deletes only the service's own hook, never a group's hooks with other names", () => {
    const plan = planUninstall(
      facts({
        groups: [
          { name: 'a', hooks: ['eks-node-lifecycle-drain', 'drain'], tags: {}, launchTemplates: [] },
          { name: 'b', hooks: ['nth-terminate'], tags: {}, launchTemplates: [] },
        ],
      }),
    );
    assert.deepEqual(plan.actions, [{ kind: 'delete-hook', group: 'a', hook: 'eks-node-lifecycle-drain' }]);
  });

  it("deletes the access entries of this stage's roles in the eks-node-lifecycle group only", () => {
    const entry = (principalArn: string, kubernetesGroups: string[]) => ({ cluster: 'dev-eu', principalArn, kubernetesGroups });
    const plan = planUninstall(
      facts({
        accessEntries: [
          entry(ROLE('eks-node-lifecycle-dev-DrainStepRole-1A2B3C'), ['eks-node-lifecycle']),
          entry(ROLE('eks-node-lifecycle-prod-DrainStepRole-1A2B3C'), ['eks-node-lifecycle']),
          entry(ROLE('eks-node-lifecycle-dev-workers-node'), []),
          entry(ROLE('platform-admins'), ['eks-node-lifecycle']),
        ],
      }),
    );
    assert.deepEqual(plan.actions, [{ kind: 'delete-access-entry', cluster: 'dev-eu', principalArn: ROLE('eks-node-lifecycle-dev-DrainStepRole-1A2B3C') }]);
  });

  it("keeps its versions that are a template's default or latest, a group's (its template, or its running refresh's) or a node group's, and says why", () => {
    const plan = planUninstall(
      facts({
        templates: [{ id: 'lt-1', name: 'workers', defaultVersion: 2, latestVersion: 7, ours: [2, 3, 4, 5, 6, 7] }],
        groups: [{ name: 'workers', hooks: [], tags: {}, launchTemplates: [{ id: 'lt-1', version: '4' }, { id: 'lt-1', version: '5' }] }],
        nodegroupTemplates: [{ cluster: 'dev-eu', nodegroup: 'system', id: 'lt-1', version: '6' }],
      }),
    );
    assert.deepEqual(plan.actions, [{ kind: 'delete-template-versions', templateId: 'lt-1', templateName: 'workers', versions: [3] }]);
    assert.deepEqual(plan.kept, [
      'launch template workers (lt-1) version 2: the default version',
      'launch template workers (lt-1) version 4: used by group workers',
      'launch template workers (lt-1) version 5: used by group workers',
      'launch template workers (lt-1) version 6: used by node group dev-eu/system',
      'launch template workers (lt-1) version 7: the latest version',
    ]);
  });

  it('deletes at most 200 versions a call', () => {
    const ours = Array.from({ length: 450 }, (_, i) => i + 2);
    const plan = planUninstall(facts({ templates: [{ id: 'lt-1', name: 'w', defaultVersion: 1, latestVersion: 500, ours }] }));
    assert.deepEqual(plan.actions.map((a) => (a.kind === 'delete-template-versions' ? a.versions.length : 0)), [200, 200, 50]);
  });

  it('removes no ownership tag even when asked, and says so', () => {
    const plan = planUninstall(facts({ groups: [{ name: 'w', hooks: [], tags: { 'kubernetes.io/cluster/dev-eu': 'owned' }, launchTemplates: [] }] }), { removeOwnershipTags: true, clusters: ['dev-eu'] });
    assert.deepEqual(plan.actions, []);
    assert.match(plan.kept[0]!, /^ownership tags .*cannot be told apart \(groups carrying it: w\)$/);
  });
});
