import { ChatopsItems } from './chatops-items.js';

/** The rollouts' Slack threads in the chat-ops table: `thread#<execution ARN>` / `thread`. */
export class ThreadRecords extends ChatopsItems {
  /** Writes the thread unless one was claimed; false when it was. */
  async claim(executionArn: string, channel: string, claimedAt: string, expiresAt: number): Promise<boolean> {
    return this.putNew({ pk: threadKey(executionArn), sk: 'thread', executionArn, channel, claimedAt, expiresAt });
  }

  /** Sets the ts of the thread's first message; false when the thread was never claimed. */
  async setTs(executionArn: string, ts: string): Promise<boolean> {
    return this.setIfExists(threadKey(executionArn), 'thread', { ts });
  }

  async getThread(executionArn: string): Promise<{ channel?: unknown; ts?: unknown } | undefined> {
    return this.get(threadKey(executionArn), 'thread');
  }
}

function threadKey(executionArn: string): string {
  return `thread#${executionArn}`;
}
