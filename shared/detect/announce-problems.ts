import { createHash } from 'node:crypto';
import type { ConfigProblem } from '../config/node-group-config.js';
import { describeProblem } from '../config/node-group-config.js';
import { CONFIGURATION_PROBLEM, type ConfigurationProblemDetail } from '../events/configuration.js';
import type { GroupView } from './inventory.js';

export interface AnnouncePorts {
  /** claims a fingerprint; false when it was announced already (and has not expired) */
  claim: (fingerprint: string, summary: string) => Promise<boolean>;
  release: (fingerprint: string) => Promise<void>;
  publish: (detailType: typeof CONFIGURATION_PROBLEM, detail: ConfigurationProblemDetail) => Promise<void>;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** How long an announcement holds: a problem still there a month later is announced again. */
export const ANNOUNCEMENT_TTL_SECONDS = 30 * 86_400;

/** One problem of one group, as the event says it; the fingerprint names (cluster, group, problem). */
export function problemEvent(group: Pick<GroupView, 'cluster' | 'name' | 'kind'>, problem: ConfigProblem): ConfigurationProblemDetail {
  const text = describeProblem(problem);
  const fingerprint = createHash('sha256').update(`${group.cluster}\n${group.name}\n${problem.message}`).digest('hex').slice(0, 32);
  return {
    cluster: group.cluster,
    group: group.name,
    kind: group.kind,
    key: problem.key.slice(0, 128),
    governs: problem.governs,
    stopsAutomaticRollouts: problem.governs === 'rollout',
    problem: text.slice(0, 1000),
    fingerprint,
    summary: `${group.cluster}/${group.name}: ${text}`.slice(0, 1200),
  };
}

/**
 * Publishes each problem not announced before, once: detection runs every six hours and
 * must not repeat itself. Claim first, then publish; a publish that fails gives the claim
 * back (and fails the detection, which Lambda retries), so a problem is never claimed but
 * unannounced.
 */
export async function announceProblems(found: readonly { group: Pick<GroupView, 'cluster' | 'name' | 'kind'>; problems: readonly ConfigProblem[] }[], ports: AnnouncePorts): Promise<number> {
  let published = 0;
  for (const { group, problems } of found) {
    for (const problem of problems) {
      const detail = problemEvent(group, problem);
      if (!(await ports.claim(detail.fingerprint, detail.summary))) continue;
      try {
        await ports.publish(CONFIGURATION_PROBLEM, detail);
        published++;
      } catch (error) {
        await ports.release(detail.fingerprint);
        throw error;
      }
    }
  }
  if (published > 0) ports.log('configuration problems announced', { published });
  return published;
}
