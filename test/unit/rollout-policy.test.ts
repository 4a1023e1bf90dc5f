import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ROLLOUT_POLICY, readRolloutPolicy } from '../../shared/rollout/rollout-policy.js';

const P = 'eks-node-lifecycle/';
const tags = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [`${P}${k}`, v]));

describe('Rollout policy from node group tags', () => {
  it('defaults: one node at a time, a canary of one, surge, any time, no approval, batches', () => {
    assert.deepEqual(readRolloutPolicy({}), { policy: DEFAULT_ROLLOUT_POLICY, problems: [], rejected: [] });
    assert.deepEqual(DEFAULT_ROLLOUT_POLICY, { maxUnavailable: 1, canary: 1, strategy: 'surge', approval: false, selfManagedStrategy: 'batches', onWindowClose: 'wait', maxPauseSeconds: 7 * 86_400 });
  });

  it('reads every rollout tag', () => {
    const { policy, problems } = readRolloutPolicy(
      tags({ 'max-unavailable': '25%', canary: '2', 'update-strategy': 'minimal', window: 'mon-fri 22:00-04:00 Europe/Paris', 'on-window-close': 'end', rollout: 'approve', strategy: 'instance-refresh' }),
    );
    assert.deepEqual(problems, []);
    assert.equal(policy.maxUnavailable, '25%');
    assert.equal(policy.canary, 2);
    assert.equal(policy.strategy, 'minimal');
    assert.equal(policy.window?.timeZone, 'Europe/Paris');
    assert.equal(policy.approval, true);
    assert.equal(policy.selfManagedStrategy, 'instance-refresh');
    assert.equal(policy.onWindowClose, 'end');
  });

  it('max-pods: a pod count that wins over the user data\'s and the computed one; a malformed one is a problem and absent', () => {
    assert.equal(readRolloutPolicy(tags({ 'max-pods': '110' })).policy.maxPods, 110);
    assert.equal(readRolloutPolicy(tags({ 'max-pods': ' 58 ' })).policy.maxPods, 58);
    assert.equal(readRolloutPolicy({}).policy.maxPods, undefined);
    for (const raw of ['0', '1001', '29.5', 'lots', '-3', '110 pods']) {
      const { policy, problems } = readRolloutPolicy(tags({ 'max-pods': raw }));
      assert.equal(policy.maxPods, undefined, raw);
      assert.equal(problems.length, 1, raw);
      assert.match(problems[0]!, /eks-node-lifecycle\/max-pods=.* is not a pod count \(1-1000\); using the user data's max pods, else the computed one/);
    }
  });

  it('max-pause: a duration from an hour to 30 days', () => {
    assert.equal(readRolloutPolicy(tags({ 'max-pause': '14d' })).policy.maxPauseSeconds, 14 * 86_400);
    assert.equal(readRolloutPolicy(tags({ 'max-pause': '36h' })).policy.maxPauseSeconds, 36 * 3600);
    assert.equal(readRolloutPolicy(tags({ 'max-pause': '1h' })).policy.maxPauseSeconds, 3600);
    assert.equal(readRolloutPolicy(tags({ 'max-pause': '30d' })).policy.maxPauseSeconds, 30 * 86_400);
  });

  it('reads a node count, trims spaces, and ignores tags without the prefix', () => {
    const { policy } = readRolloutPolicy({ [`${P}max-unavailable`]: ' 3 ', 'max-unavailable': '50%' });
    assert.equal(policy.maxUnavailable, 3);
  });

  it('a canary of 0 turns the canary off', () => {
    assert.equal(readRolloutPolicy(tags({ canary: '0' })).policy.canary, 0);
  });

  it('approval only with rollout=approve', () => {
    assert.equal(readRolloutPolicy(tags({ rollout: 'auto' })).policy.approval, false);
  });

  const malformed: [string, string][] = [
    ['max-unavailable', '0'],
    ['max-unavailable', '101'],
    ['max-unavailable', '0%'],
    ['max-unavailable', '150%'],
    ['max-unavailable', 'two'],
    ['max-unavailable', '2.5%'],
    ['canary', '-1'],
    ['canary', 'yes'],
    ['canary', '1000'],
    ['update-strategy', 'blue-green'],
    ['strategy', 'replace'],
    ['on-window-close', 'stop'],
    ['window', 'weekends at night'],
    ['max-pause', '59m'],
    ['max-pause', '31d'],
    ['max-pause', 'forever'],
  ];
  for (const [name, value] of malformed) {
    it(`${name}=${value}: the default applies and the problem is reported, never a throw`, () => {
      const { policy, problems } = readRolloutPolicy(tags({ [name]: value }));
      const { window: _w, ...rest } = policy;
      assert.deepEqual(rest, DEFAULT_ROLLOUT_POLICY);
      assert.equal(policy.window, undefined);
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, new RegExp(`${P}${name}`));
    });
  }
});
