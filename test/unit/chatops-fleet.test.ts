import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListClustersCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { authorize, parseAccessPolicy } from '../../shared/chatops/access-policy.js';
import { type FleetView, lockKeyAt, type PlaceListing, refLabel, resolvePlaced, resolveShort } from '../../shared/chatops/fleet-clusters.js';
import { formatCommand, parseCommand } from '../../shared/chatops/grammar.js';
import { toText } from '../../shared/chatops/render.js';
import { type CommandPorts, runCommand } from '../../shared/chatops/run-command.js';
import type { Command } from '../../shared/chatops/types.js';
import { awsScope } from '../../shared/aws/clients.js';
import type { Place } from '../../shared/aws/places.js';
import type { FleetPlace } from '../../shared/config/member-accounts.js';
import { MemberAccessError } from '../../shared/errors.js';

const HUB: Place = { accountId: '111122223333', region: 'eu-west-1' };
const A: Place = { accountId: '444455556666', region: 'us-east-1' };
const B: Place = { accountId: '777788889999', region: 'eu-west-1' };
const PLACES: FleetPlace[] = [
  { place: HUB, clusters: '*', home: true },
  { place: A, clusters: '*', home: false },
  { place: B, clusters: ['prod', 'batch'], home: false },
];

function parsed(text: string): Command {
  const result = parseCommand(text);
  assert.ok(result.ok, `expected ${text} to parse: ${result.ok ? '' : result.error}`);
  return result.command;
}

function failure(text: string): string {
  const result = parseCommand(text);
  assert.ok(!result.ok, `expected ${text} to fail`);
  return result.error;
}

describe('Fleet addresses: the grammar', () => {
  const valid: [string, Command][] = [
    ['status 444455556666/eu-west-1/prod', { name: 'status', cluster: 'prod', place: { accountId: '444455556666', region: 'eu-west-1' } }],
    ['status 444455556666/eu-west-1/prod/ng-1', { name: 'status', cluster: 'prod', group: 'ng-1', place: { accountId: '444455556666', region: 'eu-west-1' } }],
    ['plan 444455556666/us-gov-west-1/prod/ng-1', { name: 'plan', cluster: 'prod', group: 'ng-1', place: { accountId: '444455556666', region: 'us-gov-west-1' } }],
    ['doctor 444455556666/eu-west-1/prod', { name: 'doctor', cluster: 'prod', place: { accountId: '444455556666', region: 'eu-west-1' } }],
    ['history 444455556666/eu-west-1/prod', { name: 'history', cluster: 'prod', place: { accountId: '444455556666', region: 'eu-west-1' } }],
    ['approvals 444455556666/eu-west-1/prod', { name: 'approvals', cluster: 'prod', place: { accountId: '444455556666', region: 'eu-west-1' } }],
    ['rollout 444455556666/eu-west-1/prod/web --now', { name: 'rollout', cluster: 'prod', group: 'web', place: { accountId: '444455556666', region: 'eu-west-1' }, ami: { kind: 'latest' }, now: true }],
    ['pause 444455556666/eu-west-1/prod/web', { name: 'pause', rollout: { cluster: 'prod', group: 'web', place: { accountId: '444455556666', region: 'eu-west-1' } } }],
    ['resume 444455556666/eu-west-1/prod/web --pause 2', { name: 'resume', rollout: { cluster: 'prod', group: 'web', place: { accountId: '444455556666', region: 'eu-west-1' } }, pause: 2 }],
    ['approve 444455556666/eu-west-1/prod/web', { name: 'approve', approval: { kind: 'group', cluster: 'prod', group: 'web', place: { accountId: '444455556666', region: 'eu-west-1' } } }],
    ['drain 444455556666/eu-west-1/i-0123456789abcdef0', { name: 'drain', target: { kind: 'instance', instanceId: 'i-0123456789abcdef0' }, place: { accountId: '444455556666', region: 'eu-west-1' }, force: false }],
    // the short forms parse to exactly what they always did: no place
    ['status prod/web', { name: 'status', cluster: 'prod', group: 'web' }],
    ['rollout prod/web', { name: 'rollout', cluster: 'prod', group: 'web', ami: { kind: 'latest' }, now: false }],
  ];
  for (const [text, command] of valid) {
    it(`reads ${text}, and writes it back the same`, () => {
      assert.deepEqual(parsed(text), command);
      assert.deepEqual(parsed(formatCommand(command)), command);
    });
  }

  const invalid: [string, string, RegExp][] = [
    ['an account that is not 12 digits', 'status 4444/eu-west-1/prod', /the account `4444` .* is not an AWS account id \(12 digits\)/],
    ['a region that is not one', 'status 444455556666/europe/prod/web', /the region `europe` .* is not an AWS region/],
    ['a place with no cluster', 'status 444455556666/eu-west-1/', /names a place but no cluster/],
    ['a bad cluster after the place', 'status 444455556666/eu-west-1/-prod', /`-prod` is not a valid cluster name/],
    ['a group where history takes a cluster', 'history 444455556666/eu-west-1/prod/web', /history takes a cluster, not a node group: write history `444455556666\/eu-west-1\/prod`/],
    ['a rollout of a placed cluster without its group', 'rollout 444455556666/eu-west-1/prod', /names a cluster but no node group/],
    ['an approval of a placed cluster without its group', 'approve 444455556666/eu-west-1/prod', /names a cluster but no node group/],
    ['a group name with a slash, as before', 'rollout prod/a/b', /`a\/b`.*no slash/],
    ['a drain target with a slash but no place', 'drain prod/i-0123456789abcdef0', /is not a node name or an instance id/],
    ['too many parts after the place', 'rollout 444455556666/eu-west-1/prod/web/x', /no slash/],
  ];
  for (const [what, text, error] of invalid) {
    it(`refuses ${what}, naming the part`, () => assert.match(failure(text), error));
  }
});

const listings = (extra: Partial<Record<string, string[] | string>> = {}): PlaceListing[] =>
  PLACES.map((at) => {
    const key = `${at.place.accountId}/${at.place.region}`;
    const value = extra[key] ?? (at.home ? ['prod', 'dev'] : ['prod']);
    return typeof value === 'string' ? { at, unreachable: value } : { at, clusters: value };
  });
const everyone = () => true;

describe('Fleet addresses: resolution', () => {
  it('a name only one place has is that place; the hub\'s own carries no place (its keys unchanged)', () => {
    assert.deepEqual(resolveShort('dev', listings(), { visible: everyone, strict: true }), { ok: true, ref: { cluster: 'dev' } });
    assert.deepEqual(resolveShort('batch', listings({ '777788889999/eu-west-1': ['batch'] }), { visible: everyone, strict: false }), { ok: true, ref: { cluster: 'batch', place: B } });
    assert.equal(lockKeyAt({ cluster: 'prod' }, 'web'), 'prod/web');
    assert.equal(lockKeyAt({ cluster: 'prod', place: A }, 'web'), '444455556666/us-east-1/prod/web');
  });

  it('a name several places have is an error naming every candidate', () => {
    const r = resolveShort('prod', listings(), { visible: everyone, strict: false });
    assert.deepEqual(r, { ok: false, error: 'prod is in 3 places: 111122223333/eu-west-1/prod, 444455556666/us-east-1/prod, 777788889999/eu-west-1/prod — name one.' });
  });

  it('names only the candidates the person may read; one readable is the one they mean', () => {
    const onlyA = (ref: { place?: Place }) => ref.place?.accountId === A.accountId;
    assert.deepEqual(resolveShort('prod', listings(), { visible: onlyA, strict: false }), { ok: true, ref: { cluster: 'prod', place: A } });
    // none readable: the first, so that authorization refuses it (without naming the others)
    assert.deepEqual(resolveShort('prod', listings(), { visible: () => false, strict: false }), { ok: true, ref: { cluster: 'prod' } });
  });

  it('an unknown name is an error; one a down member might have is ambiguous for a command that acts', () => {
    assert.deepEqual(resolveShort('nope', listings(), { visible: everyone, strict: false }), { ok: false, error: 'no place of this deployment has a cluster nope.' });
    const down = listings({ '777788889999/eu-west-1': 'MemberAccessError: refused', '444455556666/us-east-1': ['other'] });
    assert.deepEqual(resolveShort('prod', down, { visible: everyone, strict: false }), { ok: true, ref: { cluster: 'prod' } });
    const strict = resolveShort('prod', down, { visible: everyone, strict: true });
    assert.deepEqual(strict, { ok: false, error: 'prod is in 2 places: 111122223333/eu-west-1/prod, 777788889999/eu-west-1/prod (unreachable) — name one.' });
    // B's allow-list has no `dev`: its being down does not make `dev` ambiguous
    assert.deepEqual(resolveShort('dev', down, { visible: everyone, strict: true }), { ok: true, ref: { cluster: 'dev' } });
  });

  it('a written place must be one the deployment looks after, and the cluster one it manages there', () => {
    assert.deepEqual(resolvePlaced('prod', A, PLACES), { ok: true, ref: { cluster: 'prod', place: A } });
    assert.deepEqual(resolvePlaced('prod', HUB, PLACES), { ok: true, ref: { cluster: 'prod' } });
    assert.match((resolvePlaced('prod', { accountId: '999999999999', region: 'eu-west-1' }, PLACES) as { error: string }).error, /999999999999\/eu-west-1 is not a place this deployment looks after \(its places: 111122223333\/eu-west-1, 444455556666\/us-east-1, 777788889999\/eu-west-1\)/);
    assert.match((resolvePlaced('web', B, PLACES) as { error: string }).error, /777788889999\/eu-west-1\/web is not a cluster this deployment manages \(there: prod, batch\)/);
    assert.equal(refLabel({ cluster: 'prod', place: B }), '777788889999/eu-west-1/prod');
  });
});

describe('Fleet access policy: a bare name is the hub\'s own', () => {
  const ALICE = { id: 'iam:arn:aws:iam::111122223333:user/alice', via: 'cli' as const };
  const hubProd = { cluster: 'prod', place: HUB };
  const memberProd = { cluster: 'prod', place: A, member: true };

  it('`prod` and `*` grant the hub\'s prod, never a member\'s', () => {
    const policy = parseAccessPolicy(JSON.stringify({ clusters: { prod: { act: [ALICE.id] }, '*': { read: ['*'] } } }));
    assert.deepEqual(authorize(policy, ALICE, 'act', hubProd), { allowed: true });
    assert.deepEqual(authorize(policy, ALICE, 'act', 'prod'), { allowed: true });
    const refused = authorize(policy, ALICE, 'read', memberProd);
    assert.deepEqual(refused, { allowed: false, reason: `${ALICE.id.slice(4)} may not read cluster 444455556666/us-east-1/prod: the access policy grants nothing on it` });
  });

  it('a key naming places grants there: exact, then the most specific pattern (cluster above account above region)', () => {
    const policy = parseAccessPolicy(
      JSON.stringify({
        clusters: {
          '*/*/prod': { read: ['*'] },
          '444455556666/*/*': { act: [ALICE.id] },
          '444455556666/us-east-1/prod': { approve: [ALICE.id] },
        },
      }),
    );
    // exact key: approve, and nothing merged from the patterns (no act)
    assert.deepEqual(authorize(policy, ALICE, 'approve', memberProd), { allowed: true });
    assert.equal(authorize(policy, ALICE, 'act', memberProd).allowed, false);
    // another cluster of that account: the account pattern
    assert.deepEqual(authorize(policy, ALICE, 'act', { cluster: 'batch', place: A, member: true }), { allowed: true });
    // prod of another member: */*/prod (the named cluster wins over nothing else matching)
    assert.equal(authorize(policy, ALICE, 'read', { cluster: 'prod', place: B, member: true }).allowed, true);
    assert.equal(authorize(policy, ALICE, 'act', { cluster: 'prod', place: B, member: true }).allowed, false);
    // the hub's prod, by its place: */*/prod matches it too (it names every account)
    assert.equal(authorize(policy, ALICE, 'read', hubProd).allowed, true);
    // */*/prod (cluster named) outranks 444455556666/*/* (account named) for that account's prod without an exact key
    const ranked = parseAccessPolicy(JSON.stringify({ clusters: { '*/*/prod': { read: ['*'] }, '444455556666/*/*': { act: [ALICE.id] } } }));
    assert.equal(authorize(ranked, ALICE, 'act', memberProd).allowed, false);
  });

  it('a member with no place known is granted nothing (default deny)', () => {
    const policy = parseAccessPolicy(JSON.stringify({ clusters: { '*/*/*': { read: ['*'] }, '*': { read: ['*'] } } }));
    assert.equal(authorize(policy, ALICE, 'read', { cluster: 'prod', member: true }).allowed, false);
  });

  it('refuses malformed keys that name places, naming the part', () => {
    assert.throws(() => parseAccessPolicy(JSON.stringify({ clusters: { '4444/eu-west-1/prod': { read: ['*'] } } })), /"4444" is not an account id/);
    assert.throws(() => parseAccessPolicy(JSON.stringify({ clusters: { '*/europe/prod': { read: ['*'] } } })), /"europe" is not a region/);
    assert.throws(() => parseAccessPolicy(JSON.stringify({ clusters: { 'eu-west-1/prod': { read: ['*'] } } })), /is not <account>\/<region>\/<cluster>/);
  });
});

describe('Fleet status: every place, and the ones that cannot be reached', () => {
  const eks = mockClient(EKSClient);
  const ec2 = mockClient(EC2Client);
  const asg = mockClient(AutoScalingClient);
  afterEach(() => {
    eks.reset();
    ec2.reset();
    asg.reset();
  });

  /** Ports with stores in memory; AWS from the mocks, the member B's AssumeRole refused. */
  function portsFor(places: FleetPlace[]): { ports: CommandPorts; audited: { clusters: string[] }[] } {
    const hub = awsScope({ region: HUB.region, accountId: HUB.accountId });
    const audited: { clusters: string[] }[] = [];
    const fleet: FleetView = {
      places,
      scopeOf: (place) => {
        if (place.accountId === B.accountId) throw new MemberAccessError(B.accountId, B.region, 'arn:aws:iam::777788889999:role/x', 'AccessDenied');
        return awsScope({ region: place.region, accountId: place.accountId });
      },
    };
    const policy = parseAccessPolicy(JSON.stringify({ clusters: { '*': { read: ['*'] }, '*/*/*': { read: ['*'] } } }));
    const ports = {
      policy: async () => policy,
      auditLog: { audit: async (entry: { clusters: string[] }) => void audited.push(entry) },
      guards: { takeCommandToken: async () => true },
      locks: { get: async () => undefined },
      approvals: {},
      aws: hub,
      amiRolloutStateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:x',
      inventory: { aws: hub, managedClusters: '*', now: () => new Date('2026-12-07T08:00:00Z'), log: () => {} },
      fleet,
      now: () => new Date('2026-12-07T08:00:00Z'),
      sleep: async () => {},
      log: () => {},
    } as unknown as CommandPorts;
    return { ports, audited };
  }

  function mockAws(): void {
    // each place has a `prod` with one managed node group `web`; the hub also has `dev`
    eks.on(ListClustersCommand).callsFake(async (_input, getClient) => ({ clusters: (await getClient().config.region()) === HUB.region ? ['prod', 'dev'] : ['prod'] }));
    eks.on(DescribeClusterCommand).callsFake((input: { name: string }) => ({ cluster: { name: input.name, version: '1.31', endpoint: 'https://x', certificateAuthority: { data: 'x' } } }));
    eks.on(ListNodegroupsCommand).resolves({ nodegroups: ['web'] });
    eks.on(DescribeNodegroupCommand).callsFake((input: { clusterName: string }) => ({
      nodegroup: { nodegroupName: 'web', clusterName: input.clusterName, version: '1.31', amiType: 'AL2023_x86_64_STANDARD', releaseVersion: '1.31.3-20261201', scalingConfig: { desiredSize: 2, minSize: 2, maxSize: 3 }, tags: {}, resources: { autoScalingGroups: [] } },
    }));
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  }

  const principal = { id: 'iam:arn:aws:iam::111122223333:user/alice', display: 'alice', via: 'cli' as const };
  const ask = (ports: CommandPorts, text: string) => runCommand({ text, principal, requestId: 'req-1', receivedAt: new Date('2026-12-07T08:00:00Z') }, ports);

  it('lists the clusters of every place with its place, and the member it could not reach, in text and in data', async () => {
    mockAws();
    const { ports, audited } = portsFor(PLACES);
    const { reply } = await ask(ports, 'status');
    assert.equal(reply.ok, true);
    const text = toText(reply);
    assert.match(reply.title, /all clusters: 3 node groups, 0 rolling, 1 place unreachable/);
    assert.match(text, /PLACE/);
    assert.match(text, /111122223333\/eu-west-1 +dev\/web/);
    assert.match(text, /111122223333\/eu-west-1 +prod\/web/);
    assert.match(text, /444455556666\/us-east-1 +prod\/web/);
    assert.match(text, /Could not be reached[\s\S]*777788889999\/eu-west-1: MemberAccessError: member account 777788889999/);
    assert.ok(reply.data && reply.data.kind === 'StatusList');
    assert.deepEqual(
      reply.data.items.map((i) => [i.accountId, i.region, i.cluster, i.group]),
      [
        ['111122223333', 'eu-west-1', 'dev', 'web'],
        ['111122223333', 'eu-west-1', 'prod', 'web'],
        ['444455556666', 'us-east-1', 'prod', 'web'],
      ],
    );
    assert.deepEqual(reply.data.unreachable?.map((u) => u.accountId), ['777788889999']);
    // audit: the hub's clusters by name, the member's with its place
    assert.deepEqual(audited[0]!.clusters, ['dev', 'prod', '444455556666/us-east-1/prod']);
  });

  it('a short name two places have is answered with the candidates; a placed one is answered there', async () => {
    mockAws();
    const { ports } = portsFor(PLACES);
    const ambiguous = await ask(ports, 'status prod');
    assert.equal(ambiguous.reply.ok, false);
    assert.match(ambiguous.reply.title, /prod is in 2 places: 111122223333\/eu-west-1\/prod, 444455556666\/us-east-1\/prod — name one/);
    const placed = await ask(ports, 'status 444455556666/us-east-1/prod');
    assert.equal(placed.reply.ok, true);
    assert.match(placed.reply.title, /^444455556666\/us-east-1\/prod: 1 node group/);
    const unique = await ask(ports, 'status dev');
    assert.match(unique.reply.title, /^dev: 1 node group/);
  });

  it('a single-account deployment (the hub alone) answers as before: no place column, no place in the data', async () => {
    mockAws();
    const { ports } = portsFor([PLACES[0]!]);
    const { reply } = await ask(ports, 'status prod');
    assert.equal(reply.ok, true);
    assert.doesNotMatch(toText(reply), /PLACE|111122223333/);
    assert.ok(reply.data && reply.data.kind === 'StatusList');
    assert.equal(reply.data.items[0]!.accountId, undefined);
    assert.equal('unreachable' in reply.data, false);
  });
});
