import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsScope } from '../../shared/aws/clients.js';
import { AuditLog } from '../../shared/chatops/audit-log.js';
import { type ChatDriver, chatParams, releaseAmi, sandboxAccessPolicy, setupChat, type SlackReceiver, startSandboxSlack, type World } from '@eks-node-lifecycle/sandbox';
import { heldLocks } from './fault-invariants.js';
import { groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Image provenance end to end (security issue, part 1): a third party makes a public AMI named
 * like an EKS AMI. Asked for by id from chat it is refused up front, naming its owner, and
 * nothing is started; an execution started without chat (any StartExecution) ends at the
 * preflight with the owner named and the lock released. What people decide on — `plan`, the
 * approval request — names each image's owner and name.
 */
const A = 'U0ALICE';
const FOREIGN = '666666666666';
const LOOKALIKE_NAME = 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261230';

describe("Scenario: a third party's public AMI named like an EKS AMI", () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let foreign: string;
  let amazon: string;

  const launchTemplateWrites = () => world.account.calls.filter((c) => c.command === 'CreateLaunchTemplateVersion');

  before(async () => {
    receiver = await startSandboxSlack();
    ({ world } = await selfManagedWorld({ nodes: 2, name: 'web', tags: { 'eks-node-lifecycle/rollout': 'approve' }, world: { params: chatParams(receiver) } }));
    chat = setupChat(world, receiver, sandboxAccessPolicy({ sre: [A, 'U0BOB'] }));
    amazon = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!;
    foreign = world.account.ec2.registerImage({
      name: LOOKALIKE_NAME,
      ownerId: FOREIGN,
      public: true,
      family: 'al2023',
      kubernetesVersion: '1.31',
      description: 'EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: 1.31, release: 1.31.13-20261230)',
    }).image.ImageId;
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('refuses `rollout --ami` with it from chat, naming the owner, and starts and writes nothing', async () => {
    const before0 = await groupState('web');
    const out = await chat.slash(A, `rollout prod/web --ami ${foreign}`);
    await world.settle();

    const answer = chat.responses(out.responseUrl)[0]!;
    assert.match(answer.text, new RegExp(`Not allowed: prod/web may not roll onto ${foreign}: image ${foreign} \\(${LOOKALIKE_NAME}\\) is owned by ${FOREIGN}, not by Amazon`));
    assert.match(answer.text, /nothing was started/);
    assert.equal(answer.responseType, 'ephemeral', 'a refusal is shown only to the person who asked');
    assert.equal(rollouts(world).length, 0, 'no execution');
    assert.deepEqual(launchTemplateWrites(), [], 'no launch template version');
    assert.deepEqual((await groupState('web')).images, before0.images);
    const audit = (await new AuditLog(awsScope({ region: world.model.region }), process.env['CHATOPS_TABLE']!).history('prod', { limit: 5 }))[0]!;
    assert.equal(audit.result, 'refused');
    assert.match(audit.summary, new RegExp(`owned by ${FOREIGN}`));
  });

  it("`plan` shows the target's name and owner", async () => {
    const out = await chat.slash(A, 'plan prod/web');
    await world.settle();
    const shown = chat.responses(out.responseUrl)[0]!.text;
    assert.match(shown, new RegExp(`1\\.31\\.\\d+-20261201 \\(${amazon}, amazon-eks-node-al2023-x86_64-standard-1\\.31-v20261201, owner amazon 602401143452\\)`));
  });

  it('the approval request shows the image Amazon published with its name and owner', async () => {
    const out = await chat.slash(A, 'rollout prod/web');
    await world.run(5 * 60_000);
    assert.match(chat.responses(out.responseUrl)[0]!.text, /owner amazon 602401143452/);
    const request = receiver.messages.find((m) => m.kind === 'post' && m.text.includes('apr-'))!;
    assert.ok(request, 'an approval request was posted');
    assert.match(request.text, new RegExp(`To: 1\\.31\\.\\d+-20261201 \\(${amazon}, amazon-eks-node-al2023-x86_64-standard-1\\.31-v20261201, owner amazon 602401143452\\)`));
    // end it: this scenario is about what is shown, not the roll
    const deny = await chat.slash('U0BOB', 'deny prod/web');
    await world.settle();
    assert.match(chat.responses(deny.responseUrl)[0]!.text, /Denied/);
  });

  it('an execution started with it anyway (no chat, no detection) ends at the preflight, owner named, lock released, nothing written', async () => {
    const group = world.account.createSelfManagedGroup({ cluster: 'prod', name: 'batch', amiFamily: 'al2023', min: 1, max: 1, desired: 1, tags: { 'eks-node-lifecycle/rollout': 'auto' } });
    await world.settle();
    const before0 = await groupState('batch');
    const writesBefore = launchTemplateWrites().length;
    const machine = world.model.stateMachines.find((m) => m.name.endsWith('-ami-rollout'))!.arn;
    const input = {
      cluster: 'prod',
      group: { kind: 'self-managed', name: 'batch', autoScalingGroup: group.autoScalingGroupName, launchTemplate: { id: group.launchTemplateId, version: 1 } },
      // what the starter claims is no proof: the preflight reads the owner from EC2
      target: { imageId: foreign, imageName: LOOKALIKE_NAME, release: 'v20261230', ownerAlias: 'amazon', ownerId: '602401143452' },
      startedBy: { kind: 'person', who: 'iam:arn:aws:iam::123456789012:user/mallory', startNow: true },
    };
    const arn = world.stepFunctions.start(machine, 'direct-foreign', JSON.stringify(input)).executionArn;
    await world.settle();
    // the cluster requires approval whatever started the rollout: a person approves what the
    // input claims — and the preflight still refuses the image, read from EC2
    const approved = await chat.slash('U0BOB', 'approve prod/batch');
    await world.settle();
    assert.match(chat.responses(approved.responseUrl).map((m) => m.text).join('\n'), /Approved: prod\/batch/);

    const execution = world.stepFunctions.executions.get(arn)!;
    assert.equal(execution.status, 'FAILED');
    const failed = world.published.filter((e) => e['detail-type'] === 'Rollout Failed').map((e) => e.detail as { group: string; outcome: string; detail: { summary: string } });
    const ours = failed.find((d) => d.group === 'batch')!;
    assert.equal(ours.outcome, 'preflight-failed');
    assert.match(ours.detail.summary, new RegExp(`image-owner: image ${foreign} \\(${LOOKALIKE_NAME}\\) is owned by ${FOREIGN}, not by Amazon`));
    assert.equal(launchTemplateWrites().length, writesBefore, 'no launch template version');
    assert.deepEqual((await groupState('batch')).images, before0.images);
    assert.deepEqual(await heldLocks(world), [], 'every lock released');
    const told = receiver.messages.filter((m) => m.kind === 'post' && /Preflight failed: prod\/batch/.test(m.text));
    assert.equal(told.length, 1);
    assert.match(told[0]!.text, new RegExp(`owned by ${FOREIGN}`));
  });
});
