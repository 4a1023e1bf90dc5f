import * as z from 'zod/mini';
import { clusterName } from '../events/eventbridge.js';
import { RING_NAME } from './promotion-policy.js';

/**
 * A freeze: nothing new starts where it applies (no promotion moves, no rollout begins) and
 * running rollouts pause at their next batch boundary, until it is lifted. Set by a person
 * (`freeze [cluster|ring|all] --reason …`); by cluster, by ring, or everywhere. A freeze never
 * stops a hold: a regression seen while frozen still holds the release.
 */
const person = z.string().check(z.minLength(1), z.maxLength(200));

export const FreezeScopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('ring'), ring: z.string().check(z.regex(RING_NAME)) }),
  z.object({ kind: z.literal('cluster'), cluster: clusterName }),
]);
export type FreezeScope = z.infer<typeof FreezeScopeSchema>;

export const FreezeSchema = z.object({
  scope: FreezeScopeSchema,
  reason: z.string().check(z.minLength(1), z.maxLength(500)),
  by: person,
  /** ISO 8601 */
  since: z.string(),
});
export type Freeze = z.infer<typeof FreezeSchema>;

/** Where a decision applies: a group's cluster, and its ring when it has one. */
export interface FreezeTarget {
  cluster: string;
  ring?: string;
}

/** The freeze that covers the target, the widest first (all, then its ring, then its cluster), or undefined. */
export function freezeCovering(freezes: readonly Freeze[], target: FreezeTarget): Freeze | undefined {
  return (
    freezes.find((f) => f.scope.kind === 'all') ??
    freezes.find((f) => f.scope.kind === 'ring' && f.scope.ring === target.ring) ??
    freezes.find((f) => f.scope.kind === 'cluster' && f.scope.cluster === target.cluster)
  );
}

export function sameScope(a: FreezeScope, b: FreezeScope): boolean {
  return describeScope(a) === describeScope(b);
}

/** The freezes with `freeze` set: it replaces one of the same scope (a new reason, a new person). */
export function withFreeze(freezes: readonly Freeze[], freeze: Freeze): Freeze[] {
  return [...freezes.filter((f) => !sameScope(f.scope, freeze.scope)), freeze];
}

/** The freezes without the one of `scope`; `lifted` is what was lifted (undefined: nothing was frozen there). */
export function withoutFreeze(freezes: readonly Freeze[], scope: FreezeScope): { freezes: Freeze[]; lifted?: Freeze } {
  const lifted = freezes.find((f) => sameScope(f.scope, scope));
  return { freezes: freezes.filter((f) => f !== lifted), ...(lifted ? { lifted } : {}) };
}

/** `all`, `ring prod`, `cluster prod-eu`: as the command names it. */
export function describeScope(scope: FreezeScope): string {
  switch (scope.kind) {
    case 'all':
      return 'all';
    case 'ring':
      return `ring ${scope.ring}`;
    case 'cluster':
      return `cluster ${scope.cluster}`;
  }
}
