import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_NAMES } from '../../shared/errors.js';
import * as errors from '../../shared/errors.js';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';

function errorEquals(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => errorEquals(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'ErrorEquals') found.push(...(value as string[]));
      else errorEquals(value, found);
    }
  }
  return found;
}

describe('workflow error contract', () => {
  const model = loadServerlessModel();

  // Sandbox.Timedout: the error type Lambda reports for a function that reached its timeout
  it('every ErrorEquals in workflows/ is a known error name, a States./Lambda. name or Sandbox.Timedout', () => {
    const names = model.stateMachines.flatMap((m) => errorEquals(m.definition));
    assert.ok(names.length > 0);
    for (const name of names) {
      assert.ok((ERROR_NAMES as readonly string[]).includes(name) || /^(States|Lambda)\./.test(name) || name === 'Sandbox.Timedout', `${name} is not a known error`);
    }
  });

  // https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html:
  // Lambda's own transient errors are retried in every state that invokes a function
  it('every Task that invokes a function retries AWS’s list of transient Lambda errors and Sandbox.Timedout', () => {
    const recommended = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.ClientExecutionTimeoutException', 'Lambda.TooManyRequestsException', 'Sandbox.Timedout'];
    let tasks = 0;
    for (const machine of model.stateMachines) {
      for (const [name, state] of Object.entries((machine.definition as unknown as { States: Record<string, { Type: string; Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] }> }).States)) {
        if (state.Type !== 'Task') continue;
        tasks++;
        const retried = new Set((state.Retry ?? []).filter((r) => r.MaxAttempts !== 0).flatMap((r) => r.ErrorEquals));
        const missing = retried.has('States.ALL') ? [] : recommended.filter((e) => !retried.has(e));
        assert.deepEqual(missing, [], `${machine.name}.${name} does not retry ${missing.join(', ')}`);
      }
    }
    assert.ok(tasks >= 10, `only ${tasks} Task states found`);
  });

  it('every exported error class has a literal name listed in ERROR_NAMES', () => {
    const classes = Object.values(errors).filter((v) => typeof v === 'function' && v.prototype instanceof Error && v !== errors.NodeLifecycleError);
    const names = classes.map((C) => new (C as unknown as new (...args: unknown[]) => Error)([], 'y', 'z').name);
    assert.deepEqual([...names].sort(), [...ERROR_NAMES].sort());
  });
});
