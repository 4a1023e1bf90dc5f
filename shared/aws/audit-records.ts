import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { callAws } from './call.js';
import { ChatopsItems, type Item } from './chatops-items.js';

/** One audited command as stored (`at` ISO 8601; `expiresAt` the TTL, epoch seconds). */
export interface AuditItem {
  requestId: string;
  at: string;
  principal: unknown;
  clusters: string[];
  text: string;
  command?: string | undefined;
  result: string;
  summary: string;
  expiresAt: number;
}

/**
 * The audit trail's items in the chat-ops table: `audit#<cluster>` / `<ISO time>#<request id>`,
 * one per cluster a command named, so each cluster's history is one Query, newest first.
 */
export class AuditRecords extends ChatopsItems {
  /** The command once under each cluster: the same request id and time rewrite the same items. */
  async putUnder(clusters: readonly string[], entry: AuditItem): Promise<void> {
    const item = { sk: `${entry.at}#${entry.requestId}`, kind: 'audit', ...entry };
    await Promise.all(clusters.map((cluster) => this.put({ pk: `audit#${cluster}`, ...item })));
  }

  /** The cluster's latest `limit` items, newest first. */
  async latest(cluster: string, limit: number): Promise<Item[]> {
    const out = await callAws('dynamodb:Query', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `audit#${cluster}` },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return out.Items ?? [];
  }
}
