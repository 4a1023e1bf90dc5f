import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
import { runScripted } from './scripted-run.js';

/**
 * The ami-detection workflow file (one execution per debounce window of AMI events), run as
 * deployed with detectStaleGroups scripted: it waits until the window has passed, then asks
 * for one detection of the window's groups.
 */
const model = loadServerlessModel();
const input = { window: '20261121T090000Z', detectAt: '2026-11-21T09:01:10Z' };
const detected = { result: { trigger: 'debounced-detection', dryRun: false, plans: [], started: [] } };

describe('Workflow: ami-detection', () => {
  it('waits until the window has passed, then runs one detection for the window', async () => {
    const { execution, calls, elapsed } = await runScripted(model, 'amiDetection', input, { detectStaleGroups: [detected] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.deepEqual(calls, [{ fn: 'detectStaleGroups', payload: { kind: 'debounced-detection', window: '20261121T090000Z' } }]);
    assert.equal(elapsed, 70_000, 'from 09:00:00 to the window\'s detectAt, 09:01:10');
  });

  it('retries a transient failure of the detection with backoff', async () => {
    const { execution, calls, elapsed } = await runScripted(model, 'amiDetection', input, { detectStaleGroups: [{ error: 'AwsTransientError' }, detected] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(calls.length, 2);
    assert.ok(elapsed > 70_000 && elapsed <= 75_000, `${elapsed}`);
  });

  it('fails visibly on an error it cannot retry', async () => {
    const { execution } = await runScripted(model, 'amiDetection', input, { detectStaleGroups: [{ error: 'ConfigurationError' }] });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'ConfigurationError');
  });
});
