import * as z from 'zod/mini';

/**
 * A limit the promotion policy writes as a count (`2`) or a share of a population (`"10%"`):
 * how many groups of a ring roll at once, how many new nodes may be NotReady. Shares always
 * round toward the safe side (fewer failures tolerated, fewer groups at once): a limit fails
 * closed.
 */
export type Limit = { count: number } | { percent: number };

const PERCENT = /^(\d{1,3})%$/;

/**
 * A limit as JSON writes it: a whole number from `min`, or `"N%"` with N from 0 (or 1 when
 * `min` is 1) to 100. Anything else — `-1`, `1.5`, `"150%"`, `"10 %"` — is refused.
 */
export function limitSchema(min: 0 | 1) {
  return z.pipe(
    z.union([z.number(), z.string()]).check((ctx) => {
      if (parseLimit(ctx.value, min) === undefined) {
        ctx.issues.push({ code: 'custom', message: `must be a whole number from ${min} or a percentage ("${min === 0 ? 0 : 1}%"…"100%")`, input: ctx.value });
      }
    }),
    z.transform((value: number | string) => parseLimit(value, min)!),
  );
}

export function parseLimit(value: unknown, min: 0 | 1): Limit | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= min ? { count: value } : undefined;
  if (typeof value !== 'string') return undefined;
  const match = PERCENT.exec(value);
  const percent = match ? Number(match[1]) : NaN;
  return percent >= min && percent <= 100 ? { percent } : undefined;
}

/** How many failures of `population` a tolerance lets pass: a share rounds down. */
export function tolerated(limit: Limit, population: number): number {
  if ('count' in limit) return limit.count;
  return Math.floor((limit.percent * Math.max(0, population)) / 100);
}

/** How many of `population` may go at once: a share rounds down, but one always may (or nothing would ever move). */
export function atOnce(limit: Limit, population: number): number {
  return Math.max(1, tolerated(limit, population));
}

/** The limit as the policy writes it. */
export function describeLimit(limit: Limit): string {
  return 'count' in limit ? String(limit.count) : `${limit.percent}%`;
}
