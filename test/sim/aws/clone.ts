/**
 * Deep copies at the account's boundary: what a handler returns, and what it stores from a
 * request, must not alias the caller's objects (AWS never shares memory with its callers).
 */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
