import { currentFunction } from './lambda.js';

/**
 * Each function's own environment where functions differ: Lambda gives every function its
 * own variables, the sandbox runs them all in one process. The variables named here are read
 * through `process.env` as the function whose code runs now (an invocation, or its cold
 * start) has them — MEMBER_ROLE_NAME, set on some functions only by the hub plugin
 * (scripts/deploy/member-accounts.cjs), and AWS_LAMBDA_FUNCTION_NAME, which Lambda sets;
 * outside any function, as the process has them. Returns what puts `process.env` back.
 */
export function useFunctionEnvironments(environments: ReadonlyMap<string, Readonly<Record<string, string>>>, keys: readonly string[]): () => void {
  const original = process.env;
  const own = new Set(keys);
  const valueOf = (key: string): string | undefined | typeof NOT_OWN => {
    if (!own.has(key)) return NOT_OWN;
    const fn = currentFunction();
    const env = fn === undefined ? undefined : environments.get(fn);
    return env ? env[key] : NOT_OWN;
  };
  process.env = new Proxy(original, {
    get(target, key, receiver) {
      if (typeof key !== 'string') return Reflect.get(target, key, receiver);
      const value = valueOf(key);
      return value === NOT_OWN ? Reflect.get(target, key, receiver) : value;
    },
    // writes go to the process's own environment (its setter, not a redefinition through the proxy)
    set(target, key, value) {
      return Reflect.set(target, key, value);
    },
    has(target, key) {
      if (typeof key !== 'string') return Reflect.has(target, key);
      const value = valueOf(key);
      return value === NOT_OWN ? Reflect.has(target, key) : value !== undefined;
    },
  });
  return () => {
    process.env = original;
  };
}

const NOT_OWN = Symbol('not a function-own variable');
