import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DnsFaults, failDnsLookups, type FaultRule, injectKubeFaults, type KubeFaults, type NetworkFaultTally, randomNetworkFaults, throttleEveryService, type ThrottlingTally, type World } from '@eks-node-lifecycle/sandbox';
import { assertRolledAndHeld, type FaultedRollout, invocationsFailed, rolloutUnder, sdkCalls } from './rollout-under-faults.js';

/**
 * Storms (issue 14): a self-managed rollout of 6 nodes (2 at a time) from its start to its end
 * under a storm of transient failures, with production's rate limits on (AWS's token buckets,
 * the API server's Priority and Fairness). The SDK's own standard retries run in the sandbox;
 * what they do not absorb becomes AwsTransientError or KubernetesUnavailableError, which the
 * workflow retries. Each storm ends with the rollout succeeded, every node replaced and the
 * shared invariants held (fault-invariants.ts); the figures are reported as diagnostics.
 */

const GROUP = { nodes: 6, tags: { 'eks-node-lifecycle/max-unavailable': '2' } };
const FLOOR = 4;

const failedInvocations = (world: World, errorType: string) => invocationsFailed(world, errorType).length;
const minutes = (run: FaultedRollout) => Math.round((run.finishedAt - run.startedAt) / 60_000);

describe('Storm: 30 % of every AWS call’s attempts throttled through a rollout', () => {
  let run: FaultedRollout;
  let tally: ThrottlingTally;
  before(async () => {
    run = await rolloutUnder(GROUP, ({ world }) => {
      const throttling = throttleEveryService(world, 0.3, { seed: 30, attemptsPerCall: 3 });
      tally = throttling.tally;
      return () => throttling.restore();
    });
  });
  after(() => run.world.stop());

  it('throttles 30 % of the attempts; the SDK’s retries absorb nearly all of them, the workflow the rest', (t) => {
    const sdk = sdkCalls(run.world, run.startedAt);
    const buckets = run.world.throttling.tally().aws;
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const callersSaw = [...tally.throttled.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`storm: ${tally.attempts} attempts drawn, ${tally.attemptsThrottled} throttled (${((100 * tally.attemptsThrottled) / tally.attempts).toFixed(1)} %), ${callersSaw} calls failed for their caller after the SDK's retries`);
    t.diagnostic(`account: ${sdk.calls} calls, ${sdk.attempts} attempts, ${sdk.retried} retried by the SDK, ${sdk.failed} failed for their caller; token buckets: ${sum(buckets.attempts)} attempts, ${sum(buckets.attemptsThrottled)} throttled, ${sum(buckets.callsFailed)} calls failed`);
    t.diagnostic(`steps failed on AwsTransientError and retried: ${failedInvocations(run.world, 'AwsTransientError')}; rollout took ${minutes(run)} virtual minutes`);
    // a seeded draw per attempt: near 30 % of a few hundred attempts
    const share = tally.attemptsThrottled / tally.attempts;
    assert.ok(share > 0.2 && share < 0.4, `${share}`);
    assert.ok(sdk.retried > 10, 'the SDK retried');
    assert.ok(callersSaw < tally.attemptsThrottled / 5, `${callersSaw} of ${tally.attemptsThrottled}`);
  });

  it('rolls every node and holds the invariants', () => assertRolledAndHeld(run, FLOOR));
});

describe('Storm: network failures on both sides of a rollout', () => {
  let run: FaultedRollout;
  let aws: NetworkFaultTally;
  let hung: NetworkFaultTally;
  let kube: KubeFaults;
  let dns: DnsFaults;
  before(async () => {
    run = await rolloutUnder(
      { ...GROUP, endpointHost: 'localhost' },
      ({ world, cluster }) => {
        // AWS: 10 % of attempts reset, unresolved or cut short, and 1 % never answered
        const cut = randomNetworkFaults(0.1, { seed: 41, kinds: ['connection-reset', 'dns-failure', 'half-written-response'] });
        const unanswered = randomNetworkFaults(0.01, { seed: 42, kinds: ['socket-timeout'] });
        aws = cut.tally;
        hung = unanswered.tally;
        const rule: FaultRule = (input, attempt) => cut.rule(input, attempt) ?? unanswered.rule(input, attempt);
        world.account.faults.set('*', rule);
        // Kubernetes: 3 % of requests reset, 3 % cut short; a third of the endpoint's lookups failing
        kube = injectKubeFaults(cluster.server, { seed: 43, rules: [{ rate: 0.03, fault: { kind: 'reset' } }, { rate: 0.03, fault: { kind: 'half-written' } }] });
        dns = failDnsLookups({ hostnames: ['localhost'], rate: 0.33, seed: 44 });
        return () => {
          world.account.faults.delete('*');
          kube.stop();
          dns.restore();
        };
      },
    );
  });
  after(() => run.world.stop());

  it('fails attempts and requests of every kind; the SDK absorbs the AWS ones, the workflow retries what is left', (t) => {
    const sdk = sdkCalls(run.world, run.startedAt);
    const byKind = (tally: NetworkFaultTally) => Object.fromEntries(tally.failed);
    const kubeKinds = kube.injected.reduce<Record<string, number>>((counts, f) => ({ ...counts, [f.fault]: (counts[f.fault] ?? 0) + 1 }), {});
    t.diagnostic(`AWS: ${aws.attempts} attempts, failed ${JSON.stringify({ ...byKind(aws), ...byKind(hung) })}; ${sdk.calls} calls, ${sdk.retried} retried by the SDK, ${sdk.failed} failed for their caller`);
    t.diagnostic(`Kubernetes: ${kube.matched} requests, failed ${JSON.stringify(kubeKinds)}; ${dns.lookups} lookups, ${dns.failed.length} failed`);
    t.diagnostic(`invocations failed and retried: ${failedInvocations(run.world, 'AwsTransientError')} AwsTransientError, ${failedInvocations(run.world, 'KubernetesUnavailableError')} KubernetesUnavailableError, ${failedInvocations(run.world, 'Sandbox.Timedout')} Sandbox.Timedout; rollout took ${minutes(run)} virtual minutes`);
    assert.ok([...aws.failed.values()].reduce((a, b) => a + b, 0) > 3, JSON.stringify(byKind(aws)));
    assert.ok(sdk.retried > 5, 'the SDK retried');
    assert.ok((kubeKinds['reset'] ?? 0) + (kubeKinds['half-written'] ?? 0) > 0, JSON.stringify(kubeKinds));
  });

  it('rolls every node and holds the invariants', () => assertRolledAndHeld(run, FLOOR));
});
