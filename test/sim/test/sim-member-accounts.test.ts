import assert from 'node:assert/strict';
import { request } from 'node:https';
import { types } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DescribeAutoScalingGroupsCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsScope, clientOf } from '../../../shared/aws/clients.js';
import { PlaceScopes } from '../../../shared/aws/places.js';
import { loadServiceConfig } from '../../../shared/config/service-config.js';
import { createEksToken } from '../../../shared/kube/eks-token.js';
import { templateRoles } from '../iam/template-roles.js';
import { loadServerlessModel } from '../serverless-config.js';
import { SANDBOX_EXTERNAL_ID, World } from '../world.js';

const HUB = '111122223333';
const MEMBER = '444455556666';
const OTHER = '777788889999';
const member = { accountId: MEMBER, region: 'eu-west-1' };
const memberEast = { accountId: MEMBER, region: 'us-east-1' };
const other = { accountId: OTHER, region: 'eu-west-1' };
const MEMBERS = [
  { accountId: MEMBER, regions: ['eu-west-1', 'us-east-1'] },
  { accountId: OTHER, regions: ['eu-west-1'] },
];
const rollStepRoleArn = (place: { accountId: string; region: string }) => `arn:aws:iam::${place.accountId}:role/eks-node-lifecycle/sandbox-RollStep-${place.region}`;

/** AssumeRole from inside an invocation of `fn` (its role's IAM), or from the scenario (the sandbox's own identity). */
function assume(world: World, fn: string | undefined, input: { RoleArn: string; ExternalId?: string; DurationSeconds?: number }) {
  const call = () => new STSClient({ region: 'eu-west-1' }).send(new AssumeRoleCommand({ RoleSessionName: fn ?? 'scenario', ...input }));
  return fn ? world.runAs(fn, call) : call();
}

describe('Sandbox: member accounts', () => {
  let world: World;
  before(async () => {
    world = await World.start({ members: MEMBERS, throttling: {} });
  });
  after(() => world.stop());

  it('has one account per account and region, the hub first, and names them when asked for another', () => {
    assert.deepEqual(world.places(), [{ accountId: HUB, region: 'eu-west-1' }, member, memberEast, other]);
    assert.equal(world.model.params.memberAccounts, `${MEMBER}:eu-west-1+us-east-1,${OTHER}:eu-west-1`);
    assert.equal(world.model.params.memberExternalId, SANDBOX_EXTERNAL_ID);
    assert.notEqual(world.accountAt(member), world.accountAt(memberEast));
    assert.equal(world.accountAt({ accountId: HUB, region: 'eu-west-1' }), world.account);
    assert.throws(() => world.accountAt({ accountId: '999999999999', region: 'eu-west-1' }), /no account 999999999999\/eu-west-1; it has 111122223333\/eu-west-1, 444455556666\/eu-west-1/);
  });

  it('tells each function with a member role its name, as the hub plugin does', () => {
    const rollStep = world.model.functions.find((f) => f.key === 'rollStep')!;
    assert.equal(rollStep.environment.MEMBER_ROLE_NAME, 'sandbox-RollStep');
  });

  it('routes a call by its credentials\' account and its client\'s region: PlaceScopes inside an invocation reaches the member', async () => {
    await world.addCluster('east', { place: memberEast });
    world.accountAt(memberEast).createSelfManagedGroup({ name: 'east-nodes', cluster: 'east', desired: 0 });
    const seen = await world.runAs('rollStep', async () => {
      const { fleet, region } = loadServiceConfig();
      const scopes = new PlaceScopes(awsScope({ region, accountId: HUB }), fleet.roles);
      const groupsIn = async (place?: typeof member) => (await clientOf(scopes.scopeOf(place), AutoScalingClient).send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups!.map((g) => g.AutoScalingGroupName);
      const whoIn = async (place?: typeof member) => (await clientOf(scopes.scopeOf(place), STSClient).send(new GetCallerIdentityCommand({}))).Arn;
      return { roles: fleet.roles, east: await groupsIn(memberEast), west: await groupsIn(member), hub: await groupsIn(), who: await whoIn(memberEast), hubWho: await whoIn(), assumed: scopes.assumeRoleCalls };
    });
    assert.equal(seen.roles?.externalId, SANDBOX_EXTERNAL_ID);
    assert.deepEqual(seen.east, ['east-nodes']);
    assert.deepEqual(seen.west, []);
    assert.deepEqual(seen.hub, []);
    assert.equal(seen.who, `arn:aws:sts::${MEMBER}:assumed-role/sandbox-RollStep-us-east-1/eks-node-lifecycle-sandbox-rollStep`);
    assert.equal(seen.hubWho, world.account.callerArn);
    assert.equal(seen.assumed, 2, 'one AssumeRole per member place');
    assert.equal(world.accountAt(memberEast).calls.filter((c) => c.command === 'DescribeAutoScalingGroups').length, 1);
  });

  it('lets the hub role assume its member role with the right ExternalId, for an hour at most', async () => {
    const out = await assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID });
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(out.Credentials!.SessionToken);
    assert.equal(out.Credentials!.Expiration!.getTime(), world.clock.now() + 3_600_000);
    assert.equal(out.AssumedRoleUser!.Arn, `arn:aws:sts::${MEMBER}:assumed-role/sandbox-RollStep-eu-west-1/rollStep`);
    await assert.rejects(assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID, DurationSeconds: 7200 }), { name: 'ValidationError' });
  });

  it('refuses AssumeRole as AWS does: wrong or missing ExternalId, a principal the trust policy does not name', async () => {
    const denied = (caller: string) => ({ name: 'AccessDenied', message: `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${rollStepRoleArn(member)}`, $metadata: { httpStatusCode: 403 } });
    const hubSession = `arn:aws:sts::${HUB}:assumed-role/eks-node-lifecycle-sandbox-RollStepRole/rollStep`;
    await assert.rejects(assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: 'not-it' }), (e: Error & { $metadata: { httpStatusCode: number } }) => {
      assert.equal(e.name, denied(hubSession).name);
      assert.equal(e.message, denied(hubSession).message);
      assert.equal(e.$metadata.httpStatusCode, 403);
      return true;
    });
    await assert.rejects(assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member) }), { name: 'AccessDenied', message: denied(hubSession).message });
    // the scenario's own identity is no hub function role
    await assert.rejects(assume(world, undefined, { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID }), { name: 'AccessDenied', message: denied(world.account.callerArn).message });
  });

  it('authorizes a member session\'s calls against its member role only, and denies the rest as AWS does', async () => {
    const denials = world.iam.denials.length;
    world.expectDenials();
    const { fleet } = await world.runAs('tagInstance', async () => loadServiceConfig());
    const outcome = await world.runAs('tagInstance', async () => {
      const scopes = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: HUB }), fleet.roles);
      return clientOf(scopes.scopeOf(member), EKSClient)
        .send(new ListClustersCommand({}))
        .then(() => 'allowed', (e: Error) => e);
    });
    assert.ok(outcome instanceof Error);
    assert.equal(outcome.name, 'AccessDeniedException');
    assert.match(outcome.message, new RegExp(`^User: arn:aws:sts::${MEMBER}:assumed-role/sandbox-TagInstance-eu-west-1/eks-node-lifecycle-sandbox-tagInstance is not authorized to perform: eks:ListClusters`));
    const last = world.iam.denials.at(-1)!;
    assert.equal(world.iam.denials.length, denials + 1);
    assert.equal(last.member, `${MEMBER}/eu-west-1`);
    assert.equal(last.role, 'TagInstanceRole');
  });

  it('fails calls made with ended session credentials with ExpiredTokenException', async () => {
    const out = await assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID, DurationSeconds: 900 });
    const c = out.Credentials!;
    const client = new STSClient({ region: 'eu-west-1', credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
    assert.equal((await client.send(new GetCallerIdentityCommand({}))).Account, MEMBER);
    await world.run(901_000);
    await assert.rejects(client.send(new GetCallerIdentityCommand({})), { name: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
  });

  it('renews a member session before it ends, on the virtual clock (PlaceScopes, through the SDK\'s own refresh)', async () => {
    const runs = await world.runAs('rollStep', async () => {
      const { fleet } = loadServiceConfig();
      const scopes = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: HUB }), fleet.roles);
      const sts = clientOf(scopes.scopeOf(other), STSClient);
      await sts.send(new GetCallerIdentityCommand({}));
      return { scopes, sts };
    });
    await world.run(56 * 60_000);
    const who = await world.runAs('rollStep', () => runs.sts.send(new GetCallerIdentityCommand({})));
    assert.equal(who.Account, OTHER);
    assert.equal(runs.scopes.assumeRoleCalls, 2);
  });

  it('denies every request of a session whose role was deleted, its credentials still unexpired (IAM evaluates a session at each request)', async () => {
    world.expectDenials();
    const place = { accountId: OTHER, region: 'eu-west-1' };
    const client = await world.runAs('detectStaleGroups', async () => {
      const { fleet } = loadServiceConfig();
      const scopes = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: HUB }), fleet.roles);
      const eks = clientOf(scopes.scopeOf(place), EKSClient);
      await eks.send(new ListClustersCommand({}));
      return eks;
    });
    world.deleteMemberRole(place, 'DetectStaleGroupsRole');
    const outcome = await world.runAs('detectStaleGroups', () => client.send(new ListClustersCommand({})).then(() => 'allowed', (e: Error) => e));
    assert.ok(outcome instanceof Error, 'denied');
    assert.equal(outcome.name, 'AccessDeniedException');
    assert.equal(world.iam.denials.at(-1)!.member, `${OTHER}/eu-west-1`);
    assert.match(world.iam.denials.at(-1)!.role, /DetectStaleGroupsRole \(deleted\)/);
  });

  it('forwards a member\'s events to the hub\'s bus through its stack\'s rules, keeping their account and region', async () => {
    const seen: { account: string; region: string; 'detail-type': string }[] = [];
    const put = world.put;
    world.put = (event) => void seen.push(event as never);
    try {
      world.accountAt(memberEast).publish('EC2 AMI State Change', 'aws.ec2', [], { ImageId: 'ami-1', State: 'available' });
      // no rule of the member stack matches a stopped instance
      world.accountAt(memberEast).publish('EC2 Instance State-change Notification', 'aws.ec2', [], { 'instance-id': 'i-1', state: 'stopped' });
      // a region of the hub other than its home has no rules
      world.cloud!.reach({ accountId: HUB, region: 'us-west-2' }).publish('EC2 AMI State Change', 'aws.ec2', [], { ImageId: 'ami-2', State: 'available' });
      await world.settle();
    } finally {
      world.put = put;
    }
    assert.deepEqual(
      seen.map((e) => [e.account, e.region, e['detail-type']]),
      [[MEMBER, 'us-east-1', 'EC2 AMI State Change']],
    );
  });

  it('refuses AssumeRole of a deleted member role', async () => {
    world.deleteMemberRole(other, 'RollStepRole');
    await assert.rejects(assume(world, 'rollStep', { RoleArn: rollStepRoleArn(other), ExternalId: SANDBOX_EXTERNAL_ID }), { name: 'AccessDenied' });
    assert.throws(() => world.memberRole(other, 'RollStepRole'), /no member role RollStepRole in 777788889999\/eu-west-1/);
  });

  it('keeps two clusters named prod in two places apart, and a member\'s kubelet joins its own', async () => {
    const home = await world.addCluster('prod');
    const away = await world.addCluster('prod', { place: member });
    assert.equal(world.cluster('prod'), home);
    assert.equal(world.cluster('prod', member), away);
    assert.equal(away.key, `${MEMBER}/eu-west-1/prod`);
    await world.addCluster('batch', { place: member });
    await world.addCluster('batch', { place: memberEast });
    assert.throws(() => world.cluster('batch'), /ambiguous: 444455556666\/eu-west-1\/batch, 444455556666\/us-east-1\/batch/);
    const endpoint = await world.runAs('rollStep', async () => {
      const { fleet } = loadServiceConfig();
      const scopes = new PlaceScopes(awsScope({ region: 'eu-west-1', accountId: HUB }), fleet.roles);
      return (await clientOf(scopes.scopeOf(member), EKSClient).send(new DescribeClusterCommand({ name: 'prod' }))).cluster!.endpoint;
    });
    assert.equal(endpoint, away.endpoint);
    world.accountAt(member).createSelfManagedGroup({ name: 'away-nodes', cluster: 'prod', desired: 1 });
    await world.run(10 * 60_000);
    assert.equal(away.store.list('nodes').length, 1);
    assert.equal(home.store.list('nodes').length, 0);
  });

  it('accepts an EKS token of a member session whose role has an access entry, as that session', async () => {
    const away = world.cluster('prod', member);
    const out = await assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID });
    const c = out.Credentials!;
    const tokenOf = async (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
      (await createEksToken('prod', { region: 'eu-west-1', credentials, now: () => world.clock.date() })).token;
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    assert.equal(await statusOf(away, await tokenOf(session)), 200);
    // the same session's token is no good for the hub's cluster of that name (no access entry there), nor with another secret
    assert.equal(await statusOf(world.cluster('prod'), await tokenOf(session)), 401);
    assert.equal(await statusOf(away, await tokenOf({ ...session, secretAccessKey: 'forged' })), 401);
    // the hub's own keys are not the member's clusters' creator
    const { SANDBOX_CREDENTIALS } = await import('../world.js');
    assert.equal(await statusOf(away, await tokenOf(SANDBOX_CREDENTIALS)), 401);
    assert.ok(await world.writeKubeconfig('prod', member));
  });
});

describe('Sandbox: member accounts, the hub\'s side of the refusals', () => {
  it('denies AssumeRole when the hub role lacks its assume-member-roles statement', async () => {
    const model = loadServerlessModel({ params: { managedClusters: '*', memberAccounts: `${MEMBER}:eu-west-1`, memberExternalId: SANDBOX_EXTERNAL_ID } });
    const roles = templateRoles(model);
    const rollStep = roles.get('RollStepRole')!;
    assert.ok(rollStep.policies.some((p) => p.name === 'assume-member-roles'));
    roles.set('RollStepRole', { ...rollStep, policies: rollStep.policies.filter((p) => p.name !== 'assume-member-roles') });
    const world = await World.start({ members: [{ accountId: MEMBER, regions: ['eu-west-1'] }], roles, throttling: {} });
    try {
      await assert.rejects(assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID }), { name: 'AccessDenied', message: /because no identity-based policy allows the sts:AssumeRole action/ });
      assert.equal(world.iam.denials.at(-1)!.request.resource, rollStepRoleArn(member));
      assert.equal(world.cloud!.assumeRoles.length, 0, 'IAM refused it before STS saw it');
    } finally {
      await world.stop();
    }
  });

  it('drops the events of a member account the hub\'s memberAccounts does not list (its bus policy)', async () => {
    const world = await World.start({ members: MEMBERS, params: { memberAccounts: `${MEMBER}:eu-west-1+us-east-1` }, throttling: {} });
    const seen: { account: string }[] = [];
    world.put = (event) => void seen.push(event as never);
    try {
      world.accountAt(other).publish('EC2 AMI State Change', 'aws.ec2', [], { ImageId: 'ami-3', State: 'available' });
      world.accountAt(member).publish('EC2 AMI State Change', 'aws.ec2', [], { ImageId: 'ami-4', State: 'available' });
      await world.settle();
      assert.deepEqual(seen.map((e) => e.account), [MEMBER]);
    } finally {
      await world.stop();
    }
  });

  it('starts without member roles where told, and a single-account world is as before', async () => {
    const world = await World.start({ members: [{ accountId: MEMBER }], memberRolesMissing: [member], throttling: {} });
    try {
      assert.deepEqual(world.memberRoles(member), []);
      await assert.rejects(assume(world, 'rollStep', { RoleArn: rollStepRoleArn(member), ExternalId: SANDBOX_EXTERNAL_ID }), { name: 'AccessDenied' });
    } finally {
      await world.stop();
    }
    assert.equal(types.isProxy(process.env), false, 'the functions\' own environments end with their world');
    const single = await World.start({ throttling: {} });
    try {
      assert.equal(single.cloud, undefined);
      assert.deepEqual(single.places(), [{ accountId: HUB, region: 'eu-west-1' }]);
      assert.equal(single.model.functions.find((f) => f.key === 'rollStep')!.environment.MEMBER_ROLE_NAME, undefined);
    } finally {
      await single.stop();
    }
  });
});

/** The API server's answer to a GET of /api/v1/nodes with this bearer token. */
function statusOf(cluster: { endpoint: string; caData: string }, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.endpoint}/api/v1/nodes`, { ca: Buffer.from(cluster.caData, 'base64'), headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
