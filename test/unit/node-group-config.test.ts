import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeProblem, readNodeGroupConfig, rolloutBlockers } from '../../shared/config/node-group-config.js';
import { didYouMean, NODE_GROUP_TAGS } from '../../shared/config/tag-vocabulary.js';
import type { GroupView } from '../../shared/detect/inventory.js';
import { planGroup } from '../../shared/detect/plan-rollouts.js';

const P = 'eks-node-lifecycle/';
const tags = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [`${P}${k}`, v]));

describe('Node group configuration: strict, one vocabulary', () => {
  it('refuses a malformed channel instead of falling back to recommended (a mistyped soak must not roll the newest image)', () => {
    // Act
    const config = readNodeGroupConfig(tags({ rollout: 'auto', channel: 'soak=7days' }));
    // Assess
    const blockers = rolloutBlockers(config);
    assert.deepEqual(blockers.map((b) => [b.key, b.governs]), [['channel', 'rollout']]);
    assert.equal(describeProblem(blockers[0]!), `${P}channel=soak=7days needs a duration like soak=7d or soak=36h — automatic rollouts of this group are stopped until it is fixed`);
  });

  it('refuses a mistyped pinned= too', () => {
    assert.deepEqual(rolloutBlockers(readNodeGroupConfig(tags({ rollout: 'auto', channel: 'pinned=ami-12' }))).map((b) => b.key), ['channel']);
  });

  it('accepts rollout=Auto as auto, with a note, and no problem', () => {
    const config = readNodeGroupConfig(tags({ rollout: 'Auto' }));
    assert.equal(config.policy.rollout, 'auto');
    assert.deepEqual(config.problems, []);
    assert.deepEqual(config.notes, [`${P}rollout=Auto read as auto; write it auto`]);
  });

  it('names an unknown key with the key it most likely meant, and stops rollouts when that key governs them', () => {
    const config = readNodeGroupConfig(tags({ rollout: 'auto', 'max-unavialable': '25%' }));
    assert.deepEqual(config.problems, [{ key: 'max-unavialable', governs: 'rollout', message: `${P}max-unavialable is not a setting; did you mean ${P}max-unavailable?` }]);
    assert.equal(rolloutBlockers(config).length, 1);
  });

  it('stops rollouts for an unknown key that resembles nothing (it may have meant anything), not for a misspelt drain key', () => {
    assert.deepEqual(readNodeGroupConfig(tags({ colour: 'blue' })).problems.map((p) => p.governs), ['rollout']);
    const drainTypo = readNodeGroupConfig(tags({ 'drain-timout': '1h' }));
    assert.deepEqual(drainTypo.problems.map((p) => [p.governs, p.message]), [['drain', `${P}drain-timout is not a setting; did you mean ${P}drain-timeout?`]]);
    assert.deepEqual(rolloutBlockers(drainTypo), []);
  });

  it('keeps draining with the safe default on a drain setting problem, and reports it', () => {
    const config = readNodeGroupConfig(tags({ 'drain-timeout': '15min', 'on-drain-timeout': 'always' }));
    assert.equal(config.policy.drain.drainTimeoutSeconds, 15 * 60);
    assert.equal(config.policy.drain.onDrainTimeout, 'fail');
    assert.deepEqual(config.problems.map((p) => [p.key, p.governs]), [['drain-timeout', 'drain'], ['on-drain-timeout', 'drain']]);
    assert.deepEqual(rolloutBlockers(config), []);
  });

  it('stops rollouts on each rollout setting the issue names', () => {
    for (const [key, value] of [['max-unavailable', '25 %'], ['window', 'sat 02:00-06:00 Paris'], ['canary', 'one'], ['kubernetes-version', 'latest'], ['rollout', 'yes'], ['update-strategy', 'fast'], ['max-pause', '5m']] as const) {
      const config = readNodeGroupConfig(tags({ [key]: value }));
      assert.deepEqual(rolloutBlockers(config).map((b) => b.key), [key], key);
    }
  });

  it('says an image tag on a group does nothing, without stopping anything', () => {
    const config = readNodeGroupConfig(tags({ 'ami-family': 'al2023' }));
    assert.deepEqual(config.problems.map((p) => p.governs), ['nothing']);
    assert.deepEqual(rolloutBlockers(config), []);
  });

  it('knows every key the README documents, and ami-tag-<key>', () => {
    for (const key of ['rollout', 'channel', 'window', 'max-unavailable', 'canary', 'kubernetes-version', 'drain', 'drain-timeout', 'rebalance', 'launch-hook', 'terminate-hook', 'ami-owners']) assert.ok(key in NODE_GROUP_TAGS, key);
    assert.deepEqual(readNodeGroupConfig(tags({ 'ami-tag-team': 'platform', 'ami-name-prefix': 'my-' })).problems, []);
  });

  it('suggests only near keys', () => {
    assert.equal(didYouMean('cannary', ['canary', 'channel']), 'canary');
    assert.equal(didYouMean('windwo', ['window']), 'window');
    assert.equal(didYouMean('something-else', ['window', 'canary']), undefined);
  });
});

describe('planGroup: a configuration problem is shown, and stops the roll', () => {
  const group = { place: { accountId: '', region: 'eu-west-1' }, home: true, cluster: 'prod', name: 'web', kind: 'self-managed', imageId: 'ami-00000000000000001', tags: {} } as unknown as GroupView;
  const target = { decision: 'target' as const, image: { imageId: 'ami-00000000000000002', release: '1.31-20261215' }, reason: 'newer' };

  it('skips the group with the blockers as its reason, and carries every problem and note', () => {
    const plan = planGroup(group, { rollout: 'auto', target, blockers: ['channel bad'], problems: ['channel bad', 'drain-timeout bad'], notes: ['n'] });
    assert.equal(plan.action, 'skip');
    assert.match(plan.reason, /not rolled until its configuration is fixed: channel bad/);
    assert.deepEqual([plan.problems, plan.notes], [['channel bad', 'drain-timeout bad'], ['n']]);
  });

  it('rolls with problems that do not govern rollouts, still showing them', () => {
    const plan = planGroup(group, { rollout: 'auto', target, problems: ['drain-timeout bad'] });
    assert.equal(plan.action, 'roll');
    assert.deepEqual(plan.problems, ['drain-timeout bad']);
  });
});

describe('Node group configuration: each setting, and where its value came from', () => {
  const setting = (config: ReturnType<typeof readNodeGroupConfig>, key: string) => config.settings.find((s) => s.key === key);

  it('lists every key of the vocabulary, from the service default when no tag gives it', () => {
    // Act
    const config = readNodeGroupConfig({});
    // Assess
    assert.deepEqual(config.settings.map((s) => s.key), Object.keys(NODE_GROUP_TAGS));
    assert.ok(config.settings.every((s) => s.source === 'default' && s.tag === undefined));
    assert.deepEqual(
      ['rollout', 'channel', 'drain-timeout', 'max-grace-period', 'rebalance', 'window', 'terminate-hook'].map((k) => setting(config, k)?.value),
      ['off', 'recommended', '15m', '10m', 'ignore', 'none (any time)', 'eks-node-lifecycle-drain'],
    );
  });

  it('says a value came from the group tag, written as the tag would be', () => {
    const config = readNodeGroupConfig(tags({ rollout: 'Approve', channel: 'soak=36h', 'drain-timeout': '1h30m', 'max-unavailable': '25%', 'terminate-hook': 'flush-logs', 'ami-name-prefix': 'my-eks-', 'ami-tag-team': 'platform' }));
    assert.deepEqual(setting(config, 'rollout'), { key: 'rollout', governs: 'rollout', value: 'approve', source: 'tag', tag: 'Approve' });
    assert.deepEqual(setting(config, 'channel'), { key: 'channel', governs: 'rollout', value: 'soak=36h', source: 'tag', tag: 'soak=36h' });
    assert.equal(setting(config, 'drain-timeout')?.value, '90m');
    assert.equal(setting(config, 'max-unavailable')?.value, '25%');
    assert.equal(setting(config, 'terminate-hook')?.value, 'eks-node-lifecycle-drain flush-logs');
    assert.deepEqual(setting(config, 'ami-tag-team'), { key: 'ami-tag-team', governs: 'rollout', value: 'platform', source: 'tag', tag: 'platform' });
    assert.equal(setting(config, 'canary')?.source, 'default');
  });

  it('marks a tag whose value could not be used as rejected, showing the default in effect', () => {
    const config = readNodeGroupConfig(tags({ rollout: 'auto', channel: 'soak=7days', 'drain-timeout': '15min', 'max-unavailable': '25 %', window: 'sat 02:00-06:00 Paris' }));
    assert.deepEqual(
      ['channel', 'drain-timeout', 'max-unavailable', 'window'].map((k) => [k, setting(config, k)?.source, setting(config, k)?.value]),
      [
        ['channel', 'rejected', 'recommended'],
        ['drain-timeout', 'rejected', '15m'],
        ['max-unavailable', 'rejected', '1'],
        ['window', 'rejected', 'none (any time)'],
      ],
    );
    assert.equal(setting(config, 'rollout')?.source, 'tag');
  });

  it('keeps a drain timeout shorter than the grace period cap as the tag says (a problem, not a rejected value)', () => {
    const config = readNodeGroupConfig(tags({ 'drain-timeout': '5m' }));
    assert.equal(config.problems.length, 1);
    assert.deepEqual([setting(config, 'drain-timeout')?.source, setting(config, 'drain-timeout')?.value], ['tag', '5m']);
  });
});
