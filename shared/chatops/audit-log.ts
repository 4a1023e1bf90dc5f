import { AuditRecords } from '../aws/audit-records.js';
import type { AwsScope } from '../aws/clients.js';
import { epochSeconds } from '../clock.js';
import { showInvisible } from '../invisible-characters.js';
import { truncate } from '../truncate.js';
import { mentionsAsText } from './mentions.js';

/** How a request reached the service. */
export type Via = 'slack' | 'lambda' | 'cli';

const AUDIT_TTL_SECONDS = 400 * 24 * 3600;
const MAX_TEXT = 500;
const MAX_SUMMARY = 1000;

/** The audit partition of commands about no specific cluster (`status` of everything, `help`). */
export const NO_CLUSTER = '-';

export type AuditResult = 'done' | 'refused' | 'invalid' | 'failed';

/** One command to audit: who asked, what they typed, what it was about, and what came of it. */
export interface AuditInput {
  /** the request's id (Slack trigger id, Lambda request id…), shown to people as the audit id */
  requestId: string;
  at: Date;
  principal: { id: string; display?: string; channel?: string; via: Via };
  /** the clusters the command was about; empty for none */
  clusters: string[];
  /** what was typed (at most 500 characters are kept) */
  text: string;
  command?: string;
  result: AuditResult;
  /** what was answered (at most 1000 characters are kept) */
  summary: string;
}

/** One audited command as `history` reads it back: the time as ISO 8601, like every stored time. */
export type AuditEntry = Omit<AuditInput, 'at'> & { at: string };

/** Who asked what, when, and what came of it: each cluster's history, kept 400 days (DynamoDB TTL). */
export class AuditLog {
  private readonly records: AuditRecords;

  constructor(scope: AwsScope, table: string) {
    this.records = new AuditRecords(scope, table);
  }

  /**
   * Records one command, once in the history of each cluster it names (or of `NO_CLUSTER`).
   * Writing the same request id and time again rewrites the same items: a retried handler
   * leaves one entry. The trail holds plain, visible text: the service's mention markers as
   * `<@U…>`, and the invisible characters of a refused command written out (`\u{200b}`).
   */
  async audit(entry: AuditInput): Promise<void> {
    const clusters = entry.clusters.length ? [...new Set(entry.clusters)] : [NO_CLUSTER];
    await this.records.putUnder(clusters, {
      requestId: entry.requestId,
      at: entry.at.toISOString(),
      principal: entry.principal,
      clusters: entry.clusters,
      text: truncate(showInvisible(entry.text), MAX_TEXT),
      command: entry.command,
      result: entry.result,
      summary: truncate(mentionsAsText(entry.summary), MAX_SUMMARY),
      expiresAt: epochSeconds(entry.at) + AUDIT_TTL_SECONDS,
    });
  }

  /** A cluster's latest commands, newest first (`limit` 20 unless told, at most 100). */
  async history(cluster: string, options: { limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = Math.min(100, Math.max(1, Math.floor(options.limit ?? 20) || 20));
    return (await this.records.latest(cluster, limit)).map(auditEntryOf);
  }
}

function auditEntryOf(item: Record<string, unknown>): AuditEntry {
  const principal = item.principal as AuditEntry['principal'];
  return {
    requestId: String(item.requestId),
    at: String(item.at),
    principal,
    clusters: (item.clusters as string[] | undefined) ?? [],
    text: String(item.text ?? ''),
    ...(typeof item.command === 'string' ? { command: item.command } : {}),
    result: item.result as AuditResult,
    summary: String(item.summary ?? ''),
  };
}
