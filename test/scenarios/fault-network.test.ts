import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AwsNetworkFault, failDnsLookups, type InjectedKubeFault, injectKubeFaults, type KubeFault, type NetworkFaultTally, randomNetworkFaults } from '@eks-node-lifecycle/sandbox';
import { assertRolledAndHeld, type FaultedRollout, invocationsFailed, rolloutUnder, sdkCalls } from './rollout-under-faults.js';

/**
 * The network rows of the fault matrix (issue 14): each network failure, on the AWS side and
 * on the Kubernetes side, injected into a real rollout of a self-managed group of 4 nodes
 * (2 at a time). Each row ends with the rollout succeeded, every node replaced, no untyped
 * error, and the shared invariants held (fault-invariants.ts).
 *
 * AWS failures reach the SDK where its HTTP handler would have raised them (the sandbox
 * answers inside the middleware stack), so the SDK's standard retries absorb most of them;
 * what is left becomes AwsTransientError and the workflow retries the step. Kubernetes
 * failures are real: the API server resets the TCP connection, or writes half an answer and
 * drops it; the resolver fails the endpoint's name.
 */

const GROUP = { nodes: 4, tags: { 'eks-node-lifecycle/max-unavailable': '2' } };
const FLOOR = 2;

function awsRow(kind: AwsNetworkFault, rate: number, seed: number, limit?: number) {
  let run: FaultedRollout;
  let tally: NetworkFaultTally;
  before(async () => {
    run = await rolloutUnder(GROUP, ({ world }) => {
      const faults = randomNetworkFaults(rate, { seed, kinds: [kind], ...(limit !== undefined ? { limit } : {}) });
      tally = faults.tally;
      world.account.faults.set('*', faults.rule);
      return () => world.account.faults.delete('*');
    });
  });
  after(() => run.world.stop());
  return { run: () => run, tally: () => tally };
}

describe('Fault: AWS network failures during a rollout (each absorbed by the SDK’s retries, or by the step’s)', () => {
  const failures: { what: string; kind: AwsNetworkFault; seed: number }[] = [
    { what: 'connections reset before the answer (read ECONNRESET)', kind: 'connection-reset', seed: 14 },
    { what: 'DNS failures (getaddrinfo EAI_AGAIN)', kind: 'dns-failure', seed: 15 },
    // invariants 4 and 9 (one launch template version per image, every hook completed once) judge the retried writes
    { what: 'answers cut off halfway (aborted, after the service acted)', kind: 'half-written-response', seed: 16 },
  ];
  for (const { what, kind, seed } of failures) {
    describe(`${what} on 20 % of AWS attempts`, () => {
      const row = awsRow(kind, 0.2, seed);
      it('fails attempts, which the SDK retries as transient', (t) => {
        const figures = sdkCalls(row.run().world, row.run().startedAt);
        t.diagnostic(`${row.tally().attempts} attempts, ${row.tally().failed.get(kind)} failed; ${JSON.stringify(figures)}`);
        assert.ok((row.tally().failed.get(kind) ?? 0) > 5);
        assert.ok(figures.retried > 0, 'the SDK retried');
      });
      it('rolls every node and holds the invariants', () => assertRolledAndHeld(row.run(), FLOOR));
    });
  }

  describe('requests never answered (a socket timeout) on 10 % of AWS attempts, 2 at most', () => {
    // the service's clients set no socket timeout, and the SDK's default one is opt-in
    // (AWS_ENABLE_DEFAULT_SOCKET_TIMEOUT_2026): such a call waits until Lambda's timeout ends
    // the invocation, and the workflow retries the step (Sandbox.Timedout)
    const row = awsRow('socket-timeout', 0.1, 17, 2);
    it('ends each such invocation by Lambda’s timeout (Sandbox.Timedout), and it is tried again', (t) => {
      const timedOut = invocationsFailed(row.run().world, 'Sandbox.Timedout');
      t.diagnostic(`${row.tally().attempts} attempts, ${row.tally().failed.get('socket-timeout')} unanswered; invocations timed out: ${timedOut.join('; ')}`);
      assert.equal(row.tally().failed.get('socket-timeout'), 2);
      assert.ok(timedOut.length >= 1, 'an invocation ended by its timeout');
    });
    it('rolls every node and holds the invariants', () => assertRolledAndHeld(row.run(), FLOOR));
  });
});

function kubeRow(fault: KubeFault, rate: number, seed: number, limit?: number) {
  let run: FaultedRollout;
  let injected: InjectedKubeFault[];
  before(async () => {
    run = await rolloutUnder(GROUP, ({ cluster }) => {
      const faults = injectKubeFaults(cluster.server, { seed, rules: [{ rate, fault, ...(limit !== undefined ? { limit } : {}) }] });
      injected = faults.injected;
      return () => faults.stop();
    });
  });
  after(() => run.world.stop());
  return { run: () => run, injected: () => injected };
}

describe('Fault: Kubernetes API network failures during a rollout (absorbed by the client, or a retryable KubernetesUnavailableError)', () => {
  // The service's Kubernetes client sends a request again at once when that cannot do
  // anything twice (a read, or a connection that never opened; 3 attempts); otherwise the
  // failure fails its step's attempt as KubernetesUnavailableError, and the workflow tries
  // the step again (6 attempts for a forward step). 4 failures at most per row: no step can
  // run out of attempts on them.
  const broken: { what: string; fault: KubeFault; seed: number; errors: RegExp }[] = [
    { what: 'connections reset by the API server (a TCP RST)', fault: { kind: 'reset' }, seed: 24, errors: /ECONNRESET|socket hang up/ },
    { what: 'answers cut off halfway through their body (the writes done all the same)', fault: { kind: 'half-written' }, seed: 25, errors: /aborted|ECONNRESET/ },
  ];
  for (const { what, fault, seed, errors } of broken) {
    describe(`${what} on 10 % of requests, 4 at most`, () => {
      const row = kubeRow(fault, 0.1, seed, 4);
      it('breaks requests: reads are sent again, writes fail their step with the retryable error', (t) => {
        const failed = invocationsFailed(row.run().world, 'KubernetesUnavailableError');
        t.diagnostic(`${row.injected().map((f) => f.request).join(', ')}; invocations failed: ${failed.length}`);
        assert.equal(row.injected().length, 4);
        assert.ok(failed.every((f) => errors.test(f)), failed.join('\n'));
      });
      it('rolls every node and holds the invariants', () => assertRolledAndHeld(row.run(), FLOOR));
    });
  }

  describe('a request the API server never answers (the client’s 10 s deadline, real time)', { timeout: 120_000 }, () => {
    const row = kubeRow({ kind: 'hang' }, 0.2, 26, 1);
    it('gives up on it by its deadline, and the step is tried again', (t) => {
      const failed = invocationsFailed(row.run().world, 'KubernetesUnavailableError');
      t.diagnostic(`${row.injected().length} held; invocations failed: ${failed.length}`);
      assert.equal(row.injected().length, 1);
      assert.ok(failed.some((f) => /no answer within 10000 ms/.test(f)), failed.join('\n'));
    });
    it('rolls every node and holds the invariants', () => assertRolledAndHeld(row.run(), FLOOR));
  });

  describe('the endpoint’s name failing to resolve (getaddrinfo EAI_AGAIN) for half the new connections', () => {
    let run: FaultedRollout;
    let failedLookups: readonly string[];
    let lookups = 0;
    before(async () => {
      run = await rolloutUnder({ ...GROUP, endpointHost: 'localhost' }, () => {
        const dns = failDnsLookups({ hostnames: ['localhost'], rate: 0.5, seed: 27, limit: 4 });
        failedLookups = dns.failed;
        return () => {
          lookups = dns.lookups;
          dns.restore();
        };
      });
    });
    after(() => run.world.stop());
    it('fails lookups; the requests are sent again (nothing was sent), or fail their step with the retryable error', (t) => {
      const failed = invocationsFailed(run.world, 'KubernetesUnavailableError');
      t.diagnostic(`${lookups} lookups, ${failedLookups.length} failed; invocations failed: ${failed.length}`);
      assert.ok(failedLookups.length > 0);
      assert.ok(failed.every((f) => /EAI_AGAIN localhost/.test(f)), failed.join('\n'));
    });
    it('rolls every node and holds the invariants', () => assertRolledAndHeld(run, FLOOR));
  });
});
