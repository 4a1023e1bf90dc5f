import type { BootstrapTarget } from './types.js';

/**
 * Sets an option in a command's argument list the way its parser reads repeats (the last one
 * wins): the last occurrence takes the new value in its place, earlier ones go; appended when
 * absent. bootstrap.sh, Start-EKSBootstrap.ps1 and kubelet flags alike.
 */
export function setLast<T>(items: readonly T[], matches: (item: T) => boolean, make: (previous: T | undefined) => T): T[] {
  const last = items.map(matches).lastIndexOf(true);
  if (last < 0) return [...items, make(undefined)];
  return items.flatMap((item, i) => (!matches(item) ? [item] : i === last ? [make(item)] : []));
}

/** A bootstrap target from what a reader found, leaving out what it did not. */
export function bootstrapTarget(found: { clusterName?: string | undefined; apiServerEndpoint?: string | undefined; certificateAuthority?: string | undefined }): BootstrapTarget {
  return Object.fromEntries(Object.entries(found).filter(([, v]) => v !== undefined)) as BootstrapTarget;
}
