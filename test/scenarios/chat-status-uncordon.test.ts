import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChatDriver, chatParams, releaseAmi, SANDBOX_SLACK, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Issue 18 parts 4 and 5: `status` mid-rollout shows what the instances run now (counted per
 * image), the target, the phase and who started or paused it by the names the access policy
 * gives them; after an abort, old and new images are both counted. `uncordon` takes back
 * exactly what a drain added: refused while the drain runs, a cordon set by someone else stays.
 */
const A = 'U0ALICE';
const B = 'U0BOB';

type KubeNode = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[]; providerID?: string } };

describe('Scenario: status mid-rollout, and uncordon after a drain from chat', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let monitor: InvariantMonitor;
  let oldImage: string;
  let newImage: string;

  /** the command's replies (chatWorker answers through the response_url) */
  const ask = async (user: string, text: string): Promise<string> => {
    const out = await chat.slash(user, text);
    await world.run(20_000);
    return chat.responses(out.responseUrl).map((m) => m.text).join('\n');
  };
  const nodes = () => world.cluster('prod').store.list('nodes') as unknown as KubeNode[];
  const node = (name: string) => nodes().find((n) => n.metadata.name === name)!;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world } = await selfManagedWorld({ nodes: 6, name: 'web', tags: { 'eks-node-lifecycle/max-unavailable': '2', 'eks-node-lifecycle/canary': '2' }, world: { params: chatParams(receiver) } }));
    const policy = sandboxAccessPolicy({ sre: [A, B] }) as { clusters: { prod: Record<string, unknown> }; names?: Record<string, string> };
    policy.clusters.prod['requireApproval'] = false;
    policy.names = { [`slack:${SANDBOX_SLACK.team}:${A}`]: 'Alice Liddell', [`slack:${SANDBOX_SLACK.team}:${B}`]: 'Bob Dylan' };
    chat = setupChat(world, receiver, policy);
    monitor = watchInvariants(world);
    oldImage = [...(await groupState('web')).images.values()][0]!;
    newImage = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('status of a rollout paused after its first batch: images counted, target, phase paused by whom, started by whom', async () => {
    assert.match(await ask(A, 'rollout prod/web --now'), /Rollout of prod\/web started/);
    assert.match(await ask(B, 'pause prod/web'), /pause/i);
    // the batch in flight (the canary, two nodes) finishes; then the rollout stays paused
    for (let i = 0; i < 60 && [...(await groupState('web')).images.values()].filter((image) => image === newImage).length < 2; i++) await world.run(60_000);
    await world.run(5 * 60_000);
    const status = await ask(A, 'status prod/web');
    assert.match(status, new RegExp(`${newImage} ×2, ${oldImage} ×4`), status);
    assert.match(status, new RegExp(`paused #1 by Bob Dylan to [^,]*${newImage}`), status);
    assert.match(status, /1 batch done/, status);
    assert.match(status, /started by Alice Liddell/, status);
    assert.doesNotMatch(status, /slack:T0SANDBOX/);
    // the rolling group's nodes are the rollout's to put back (its abort uncordons them)
    const refused = await ask(A, `uncordon ${nodes()[0]!.metadata.name}`);
    assert.match(refused, /prod\/web is being rolled \(chat-prod-web-[0-9a-f]+\), which replaces its nodes/, refused);
  });

  it('status after an abort: no rollout, and both the old and the new images counted', async () => {
    await ask(A, 'abort prod/web');
    await world.settle();
    assert.equal(rollouts(world).at(-1)!.status !== 'RUNNING', true);
    const status = await ask(A, 'status prod/web');
    assert.match(status, new RegExp(`${oldImage} ×4, ${newImage} ×2`), status);
    assert.match(status, /idle/, status);
  });

  it('uncordon during a running drain is refused; once it ended, uncordon gives the node back with exactly its own labels and taints', async () => {
    const target = nodes().find((n) => !n.spec.unschedulable && n.metadata.labels?.['node.kubernetes.io/instance-type'] !== undefined)!.metadata.name;
    // the user's own label and taint, there before any drain
    world.cluster('prod').store.update('nodes', undefined, target, (n: any) => {
      n.metadata.labels = { ...n.metadata.labels, team: 'shop' };
      n.spec.taints = [...(n.spec.taints ?? []), { key: 'dedicated', value: 'shop', effect: 'PreferNoSchedule' }];
    });
    const before0 = structuredClone(node(target));
    // a budget that allows no eviction keeps the drain running
    world.cluster('prod').store.update('poddisruptionbudgets', 'shop', 'web', (pdb: any) => {
      pdb.spec.maxUnavailable = 0;
    });
    assert.match(await ask(A, `drain ${target}`), /Draining/);
    assert.equal(node(target).spec.unschedulable, true);
    const refused = await ask(A, `uncordon ${target}`);
    assert.match(refused, /a drain of i-[0-9a-f]+ is running/, refused);
    assert.equal(node(target).spec.unschedulable, true, 'still cordoned');
    world.cluster('prod').store.update('poddisruptionbudgets', 'shop', 'web', (pdb: any) => {
      pdb.spec.maxUnavailable = 2;
    });
    await world.settle();
    const done = await ask(A, `uncordon ${target}`);
    assert.match(done, new RegExp(`Uncordoned ${esc(target)}`), done);
    const after0 = node(target);
    assert.notEqual(after0.spec.unschedulable, true);
    assert.deepEqual(after0.metadata.labels, before0.metadata.labels);
    assert.deepEqual(after0.spec.taints, before0.spec.taints);
    assert.equal(after0.metadata.annotations?.['eks-node-lifecycle/draining'], undefined);
    // once more: nothing left to take back
    assert.match(await ask(A, `uncordon ${target}`), /nothing to uncordon/);
  });

  it('a node cordoned by someone else before any drain keeps that cordon', async () => {
    const other = nodes().find((n) => !n.spec.unschedulable)!.metadata.name;
    world.cluster('prod').store.update('nodes', undefined, other, (n: any) => {
      n.spec.unschedulable = true;
    });
    const text = await ask(A, `uncordon ${other}`);
    assert.match(text, /nothing to uncordon — nothing a drain added is on the node/, text);
    assert.match(text, /kept the cordon \(spec.unschedulable\): it was there before the drain/);
    assert.equal(node(other).spec.unschedulable, true);
    world.cluster('prod').store.update('nodes', undefined, other, (n: any) => {
      delete n.spec.unschedulable;
    });
  });

  it('the audit trail holds the uncordons', async () => {
    const history = await ask(A, 'history prod');
    assert.match(history, /uncordon ip-/);
  });

  it('ends with every invariant held: budgets, capacity, no lock or drain left', async () => {
    await world.settle();
    await monitor.assertHeld();
  });
});
