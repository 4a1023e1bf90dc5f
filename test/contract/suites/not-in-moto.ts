/**
 * The adapter calls moto 5.2.1 does not implement. Against moto each test shows that it still
 * does not (an answer no AWS API gives: HTTP 404 for an unknown route, 500 for a
 * NotImplementedError), so this list cannot go stale unnoticed; against the sandbox the same
 * adapter call gets AWS's documented answer for an unknown resource. The sandbox's own tests
 * (test/sim/test/sim-aws-autoscaling, sim-eks-updates, sim-instance-refresh) cover the rest.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { continueByInstance, recordLifecycleActionHeartbeat } from '../../../shared/aws/lifecycle-actions.js';
import { activeRefresh, cancelInstanceRefresh } from '../../../shared/aws/instance-refresh.js';
import { deleteTemplateVersions } from '../../../shared/aws/launch-template-versions.js';
import { describeUpdate, listUpdateIds, startVersionUpdate } from '../../../shared/aws/nodegroup-updates.js';
import { contractSuite, rejection } from '../contract.js';
import type { ContractTarget, ContractTargetFactory } from '../target.js';

interface Gap {
  /** the AWS operation(s) */
  call: string;
  run(target: ContractTarget): Promise<unknown>;
  /** the error AWS answers an unknown resource with */
  sandbox: { rejectsWith: string };
}

const GROUP = 'contract-missing-group';
const INSTANCE = 'i-0123456789abcdef0';

export const MOTO_GAPS: Gap[] = [
  {
    call: 'autoscaling:CompleteLifecycleAction',
    run: (t) => continueByInstance(t.aws, GROUP, 'hook', INSTANCE),
    // "AutoScalingGroup name not found": not the "no active lifecycle action" the adapter maps
    sandbox: { rejectsWith: 'ValidationError' },
  },
  {
    call: 'autoscaling:RecordLifecycleActionHeartbeat',
    run: (t) => recordLifecycleActionHeartbeat(t.aws, { autoScalingGroupName: GROUP, lifecycleHookName: 'hook', lifecycleActionToken: '7f9a5a3b-0000-4000-8000-000000000000', instanceId: INSTANCE } as never),
    sandbox: { rejectsWith: 'ValidationError' },
  },
  {
    call: 'autoscaling:DescribeInstanceRefreshes',
    run: (t) => activeRefresh(t.aws, GROUP),
    sandbox: { rejectsWith: 'ValidationError' },
  },
  {
    call: 'autoscaling:CancelInstanceRefresh',
    run: (t) => cancelInstanceRefresh(t.aws, GROUP),
    sandbox: { rejectsWith: 'ValidationError' },
  },
  {
    call: 'ec2:DeleteLaunchTemplateVersions',
    run: (t) => deleteTemplateVersions(t.aws, 'lt-0123456789abcdef0', [2]),
    sandbox: { rejectsWith: 'InvalidLaunchTemplateId.NotFound' },
  },
  {
    call: 'eks:UpdateNodegroupVersion',
    run: (t) => startVersionUpdate(t.aws, 'contract-missing', 'general', { force: false }, 'contract-token'),
    sandbox: { rejectsWith: 'ResourceNotFoundException' },
  },
  {
    call: 'eks:DescribeUpdate',
    run: (t) => describeUpdate(t.aws, 'contract-missing', 'general', '00000000-0000-4000-8000-000000000000'),
    sandbox: { rejectsWith: 'ResourceNotFoundException' },
  },
  {
    call: 'eks:ListUpdates',
    run: (t) => listUpdateIds(t.aws, 'contract-missing', 'general'),
    sandbox: { rejectsWith: 'ResourceNotFoundException' },
  },
];

export function notInMotoContract(factory: ContractTargetFactory): void {
  contractSuite(factory, 'calls moto does not implement', (suite) => {
    for (const gap of MOTO_GAPS) {
      const title = factory.name === 'moto' ? `${gap.call}: moto still answers it with no AWS answer` : `${gap.call}: an unknown resource gets AWS's answer`;
      it(title, async () => {
        const outcome = gap.run(suite.target);
        if (suite.target.name === 'moto') {
          const error = await rejection(outcome);
          const status = httpStatusOf(error);
          assert.ok(status === 404 || status === 500, `moto answered ${gap.call} with ${error.name} (HTTP ${status}): implemented now? move it into the contract`);
        } else {
          assert.equal((await rejection(outcome)).name, gap.sandbox.rejectsWith);
        }
      });
    }
  });
}

/** The HTTP status of an SDK error, or of the one a product error wraps. */
function httpStatusOf(error: Error): number | undefined {
  const own = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return own ?? (error.cause instanceof Error ? httpStatusOf(error.cause) : undefined);
}
