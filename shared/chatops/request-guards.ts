import { randomBytes } from 'node:crypto';
import type { AwsScope } from '../aws/clients.js';
import { RequestGuardRecords } from '../aws/request-guard-records.js';
import { epochSeconds } from '../clock.js';

const DAY_SECONDS = 24 * 3600;
/** the rate counter of a minute outlives it by one */
const RATE_KEPT_SECONDS = 2 * 60;
/** a forced-drain grant is used at once by the request it goes with: minutes are plenty */
const FORCED_DRAIN_GRANT_SECONDS = 5 * 60;
export const FORCED_DRAIN_GRANT_ID = /^fdg-[a-f0-9]{20}$/;

/**
 * What guards a chat request, each with one conditional write: a signed request is accepted
 * once and its work run once; a person sends at most so many commands a minute; a forced
 * drain goes with a one-use grant, which requestDrain (which cannot tell who invoked it)
 * checks.
 */
export class RequestGuards {
  private readonly records: RequestGuardRecords;

  constructor(scope: AwsScope, table: string) {
    this.records = new RequestGuardRecords(scope, table);
  }

  /**
   * Accepts a signed request once: a conditional write of its key (a Slack signature, or a
   * caller and the request id they signed), kept until `keepUntil` — the end of the window in
   * which the signature would still verify, after which the timestamp check refuses it
   * anyway. false when the request was seen before: a replay.
   */
  async acceptRequestOnce(key: string, keepUntil: Date, now: Date): Promise<boolean> {
    return this.records.putRequestOnce(key, now.toISOString(), epochSeconds(keepUntil));
  }

  /**
   * Claims the work of an accepted request for one run: true only if the entry accepted it
   * (`acceptRequestOnce`) and nobody claimed it before — so a hand-off invoked twice (or by
   * someone else with a captured payload) runs once, and one the entry never saw not at all.
   */
  async claimAcceptedRequest(key: string, now: Date): Promise<boolean> {
    return this.records.setRanOnce(key, now.toISOString());
  }

  /**
   * Counts one command of `principal` in the current minute; false when `limit` were already
   * counted (the command is then refused before it costs any other call). One item per person
   * and minute, gone with its TTL.
   */
  async takeCommandToken(principal: string, now: Date, limit: number): Promise<boolean> {
    return this.records.countUnder(principal, now.toISOString().slice(0, 16), limit, epochSeconds(now) + RATE_KEPT_SECONDS);
  }

  /** Records that `by` was authorized to force-drain the instance; the grant id goes with the request to requestDrain. */
  async grantForcedDrain(grant: { instanceId: string; by: string; now: Date }): Promise<string> {
    const id = `fdg-${randomBytes(10).toString('hex')}`;
    const deadline = grant.now.getTime() + FORCED_DRAIN_GRANT_SECONDS * 1000;
    await this.records.putGrant(id, { instanceId: grant.instanceId, by: grant.by, grantedAt: grant.now.toISOString(), deadline, expiresAt: Math.ceil(deadline / 1000) + DAY_SECONDS });
    return id;
  }

  /** Uses a forced-drain grant: once, for its instance, within minutes of it being given. Who was granted it, or undefined. */
  async useForcedDrainGrant(id: string, instanceId: string, now: Date): Promise<{ by: string } | undefined> {
    if (!FORCED_DRAIN_GRANT_ID.test(id)) return undefined;
    const used = await this.records.useGrant(id, instanceId, now.toISOString(), now.getTime());
    return used ? { by: String(used.by) } : undefined;
  }
}
