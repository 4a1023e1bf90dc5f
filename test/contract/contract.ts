/**
 * The contract: each suite runs the product's own adapters against a target and asserts what
 * AWS documents. Both targets run every suite (moto.test.ts, sandbox.test.ts); a test's name
 * starts with its target's. Where moto is known to answer otherwise, `awsOr` names the
 * deviation (moto-deviations.ts, each with the AWS documentation line): the sandbox is held to
 * AWS, and moto to its own recorded answer, so a moto that changes shows up here too.
 */
import { after, before, describe } from 'node:test';
import { MOTO_DEVIATIONS, type MotoDeviation } from './moto-deviations.js';
import type { ContractTarget, ContractTargetFactory } from './target.js';

export interface Suite {
  /** The suite's own account, opened before its first test. */
  readonly target: ContractTarget;
}

/** A describe block with its own fresh account: `<target>: <title>`. */
export function contractSuite(factory: ContractTargetFactory, title: string, body: (suite: Suite) => void): void {
  describe(`${factory.name}: ${title}`, () => {
    let target: ContractTarget | undefined;
    const suite: Suite = {
      get target() {
        if (!target) throw new Error('the target opens in before()');
        return target;
      },
    };
    before(async () => {
      target = await factory.open();
    });
    after(async () => {
      await target?.close();
    });
    body(suite);
  });
}

/** AWS's answer, or moto's where it is recorded as deviating from AWS. */
export function awsOr<T>(target: ContractTarget, deviation: MotoDeviation, aws: T, moto: T): T {
  if (!MOTO_DEVIATIONS[deviation]) throw new Error(`unknown moto deviation ${deviation}`);
  return target.name === 'moto' ? moto : aws;
}

/** The error a call rejected with (its name is what the product's `callAws` maps on). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}
