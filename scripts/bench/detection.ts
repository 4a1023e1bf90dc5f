/**
 * Benchmark: one detection over 50 clusters × 20 node groups (10 managed, 10 self-managed,
 * AL2023 and Bottlerocket, every group opted in), dry run. Measured: AWS calls per group,
 * by service and operation, and SSM GetParameters calls per distinct parameter.
 */
import { awsScope } from '../../shared/aws/clients.js';
import { PlaceScopes } from '../../shared/aws/places.js';
import { fleetPlaces } from '../../shared/config/member-accounts.js';
import { detectStaleGroups } from '../../shared/detect/detect.js';
import { SimAccount, VirtualClock } from '@eks-node-lifecycle/sandbox';

export interface DetectionFigures {
  clusters: number;
  groups: number;
  wallMs: number;
  totalCalls: number;
  callsPerGroup: number;
  byOperation: Record<string, number>;
  ssmGetParametersCalls: number;
  distinctParameters: number;
  stale: number;
}

export async function benchDetection(clusters = 50, groupsPerCluster = 20): Promise<DetectionFigures> {
  const clock = new VirtualClock();
  const account = new SimAccount({ clock, region: 'eu-west-1' }).bind();
  try {
    seedDetectionWorld(account, clusters, groupsPerCluster);
    await clock.settle();
    account.calls.length = 0;
    const region = 'eu-west-1';
    // one account, no API budget: the figures as they were before member accounts
    const places = new PlaceScopes(awsScope({ region }), undefined);
    const started = performance.now();
    const result = await detectStaleGroups(
      { kind: 'detect', dryRun: true },
      {
        aws: places.home,
        places,
        fleet: fleetPlaces({ members: [] }, region, '*'),
        amiRolloutStateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:bench',
        windows: { close: async () => ({ groups: [], images: [] }) },
        now: () => clock.date(),
        log: () => undefined,
        publish: async () => undefined,
        // a dry run announces nothing
        announce: { claim: async () => false, release: async () => undefined, publish: async () => undefined },
      },
    );
    const wallMs = performance.now() - started;
    const byOperation: Record<string, number> = {};
    for (const call of account.calls) byOperation[`${call.service}:${call.command}`] = (byOperation[`${call.service}:${call.command}`] ?? 0) + 1;
    const names = new Set(account.calls.filter((c) => c.command === 'GetParameters').flatMap((c) => (c.input as { Names: string[] }).Names));
    return {
      clusters,
      groups: result.plans.length,
      wallMs,
      totalCalls: account.calls.length,
      callsPerGroup: account.calls.length / result.plans.length,
      byOperation,
      ssmGetParametersCalls: byOperation['ssm:GetParameters'] ?? 0,
      distinctParameters: names.size,
      stale: result.plans.filter((p) => p.action === 'roll').length,
    };
  } finally {
    account.restore();
  }
}

/** The bench's account: `clusters` clusters (1.30, 1.31, 1.32 in turn) of `groupsPerCluster` opted-in groups, half managed (AL2023 x86/arm), half self-managed (AL2023, Bottlerocket). */
export function seedDetectionWorld(account: SimAccount, clusters: number, groupsPerCluster: number): void {
  account.seedVpc();
  for (let c = 0; c < clusters; c++) {
    const cluster = `c${String(c).padStart(2, '0')}`;
    const version = ['1.30', '1.31', '1.32'][c % 3]!;
    account.eks.addCluster({ name: cluster, endpoint: `https://${cluster}.example.eks.amazonaws.com`, certificateAuthorityData: Buffer.from('ca').toString('base64'), serviceIpv4Cidr: '172.20.0.0/16', version });
    const optIn = { 'eks-node-lifecycle/rollout': 'auto' };
    for (let g = 0; g < groupsPerCluster; g++) {
      if (g < groupsPerCluster / 2) {
        account.createManagedNodegroup({ cluster, name: `mng-${g}`, amiType: g % 2 ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD', instanceTypes: [g % 2 ? 'm6g.large' : 'm5.large'], min: 0, max: 2, desired: 0, tags: optIn });
      } else {
        account.createSelfManagedGroup({ cluster, name: `${cluster}-asg-${g}`, amiFamily: g % 2 ? 'bottlerocket' : 'al2023', min: 0, max: 2, desired: 0, tags: optIn });
      }
    }
  }
}
