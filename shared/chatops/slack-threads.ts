import type { AwsScope } from '../aws/clients.js';
import { ThreadRecords } from '../aws/thread-records.js';
import { epochSeconds } from '../clock.js';

const THREAD_TTL_SECONDS = 30 * 24 * 3600;

export interface SlackThread {
  channel: string;
  ts: string;
}

export type ClaimResult = { claimed: true } | { claimed: false; thread: SlackThread | null };

/** The one Slack thread a rollout posts into, kept 30 days (DynamoDB TTL). */
export class SlackThreads {
  private readonly records: ThreadRecords;

  constructor(scope: AwsScope, table: string) {
    this.records = new ThreadRecords(scope, table);
  }

  /**
   * Claims the Slack thread of a rollout: the first caller wins (and posts the first
   * message, then calls `setThreadTs`); every other caller learns the thread, or null while
   * its first message is not posted yet.
   */
  async claimThread(executionArn: string, channel: string, now: Date): Promise<ClaimResult> {
    if (await this.records.claim(executionArn, channel, now.toISOString(), epochSeconds(now) + THREAD_TTL_SECONDS)) return { claimed: true };
    return { claimed: false, thread: await this.getThread(executionArn) };
  }

  /** Records the ts of the thread's first message. false when the thread was never claimed. */
  async setThreadTs(executionArn: string, ts: string): Promise<boolean> {
    return this.records.setTs(executionArn, ts);
  }

  /** The rollout's thread, or null when there is none yet (unclaimed, or its first message not posted). */
  async getThread(executionArn: string): Promise<SlackThread | null> {
    const item = await this.records.getThread(executionArn);
    return item && typeof item.ts === 'string' ? { channel: String(item.channel), ts: item.ts } : null;
  }
}
