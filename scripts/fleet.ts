/**
 * `npm run fleet`: fleet promotion in the sandbox (issue 21) — six clusters in three rings
 * (canary, staging, prod) across the hub and two member accounts; a good release promoted ring
 * by ring through every soak, a bad release (its pods crash-loop on its nodes) caught in ring 0
 * and held fleet-wide, and a release frozen mid-promotion until the freeze is lifted. Prints the
 * ring-by-ring timeline (virtual time) and ends with one JSON line summarising each release.
 * Exits 1 when an expectation fails: the good and the frozen release in every ring, the bad one
 * held with no group outside ring 0 ever on it, the invariant monitor held.
 */
import { RINGS, runFleetScenario } from '../test/scenarios/fleet-promotion-scenario.js';

const started = performance.now();
console.log('eks-node-lifecycle sandbox — fleet promotion: 6 clusters, 3 rings (canary → staging → prod), 3 accounts');
const result = await runFleetScenario({ onLine: (line) => console.log(line) });
const problems: string[] = [];
try {
  for (const r of result.releases) {
    if (r.kind !== 'bad' && r.ringsPassed.length !== RINGS.length) problems.push(`${r.release} passed ${r.ringsPassed.join(', ') || 'no ring'}, not every ring`);
    if (r.kind === 'bad' && !r.held) problems.push(`${r.release} was not held`);
    if (r.kind === 'bad' && r.outsideRing0 > 0) problems.push(`${r.release} ran on ${r.outsideRing0} groups outside ring 0`);
    if (r.kind === 'freeze' && (r.transitionsWhileFrozen ?? 0) > 0) problems.push(`${r.release} moved ${r.transitionsWhileFrozen} times while frozen`);
  }
  try {
    await result.monitor.assertHeld({ groups: result.sites.map((s) => ({ name: s.group, place: s.place, floor: 1 })) });
  } catch (error) {
    problems.push(`invariants: ${(error as Error).message.split('\n').slice(0, 6).join(' | ')}`);
  }
  const denials = result.world.iam.denials.length;
  if (denials > 0) problems.push(`${denials} IAM denials`);
  console.log(`\npromotion workflows: ${result.transitions} state transitions, ${result.invocations} Lambda invocations of the promotion step; ${result.groupsPromoted} groups promoted`);
  console.log(`wall time ${Math.round((performance.now() - started) / 1000)} s${problems.length ? `\nFAILED: ${problems.join('; ')}` : ''}`);
  console.log(JSON.stringify({ releases: result.releases.map(({ release, kind, key, ringsReached, ringsPassed, groupsRolled, groupsRolledBack, held, holdReason, outsideRing0, detectionDelaySeconds, thresholdToHoldSeconds, promotionSeconds, soakSeconds, transitionsWhileFrozen }) => ({ release, kind, key, ringsReached, ringsPassed, groupsRolled, groupsRolledBack, held, ...(holdReason ? { holdReason } : {}), outsideRing0, ...(detectionDelaySeconds !== undefined ? { detectionDelaySeconds } : {}), ...(thresholdToHoldSeconds !== undefined ? { thresholdToHoldSeconds } : {}), ...(promotionSeconds !== undefined ? { promotionSeconds, overhead: Number((promotionSeconds / soakSeconds).toFixed(3)) } : {}), ...(transitionsWhileFrozen !== undefined ? { transitionsWhileFrozen } : {}) })), ok: problems.length === 0 }));
} finally {
  await result.world.stop();
}
process.exit(problems.length === 0 ? 0 : 1);
