import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from './call.js';
import type { AwsScope } from './clients.js';
import { documentClientOf } from './dynamodb-documents.js';

/** An item of the chat-ops table as stored: plain values, keys included. */
export type Item = Record<string, unknown>;

/**
 * The chat-ops table (key `pk` + `sk`, TTL on `expiresAt` in epoch seconds), which each
 * store's adapter (audit, approvals, threads, request guards) writes its own items in: the
 * item operations they share. See serverless.yml's ChatopsTable for the partitions.
 */
export abstract class ChatopsItems {
  protected readonly doc: DynamoDBDocumentClient;

  constructor(
    scope: AwsScope,
    protected readonly table: string,
  ) {
    this.doc = documentClientOf(scope);
  }

  protected async put(item: Item): Promise<void> {
    await callAws('dynamodb:PutItem', () => this.doc.send(new PutCommand({ TableName: this.table, Item: item })));
  }

  /** Writes the item only if none has its key; false when one had. */
  protected async putNew(item: Item): Promise<boolean> {
    const written = await conditionalWrite('dynamodb:PutItem', () => this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })));
    return written !== undefined;
  }

  protected async get(pk: string, sk: string): Promise<Item | undefined> {
    const out = await callAws('dynamodb:GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })));
    return out.Item;
  }

  /** Sets attributes of an existing item (and only while `condition` holds, which may name them as `#<attribute>`); false when it did not. */
  protected async setIfExists(pk: string, sk: string, values: Item, condition?: string): Promise<boolean> {
    return (await this.updateIfExists(pk, sk, values, condition ? { condition } : {})) !== undefined;
  }

  /** `setIfExists`, with more names and values for the condition; the item as written, or undefined. */
  protected async updateIfExists(pk: string, sk: string, values: Item, when: { condition?: string; names?: Record<string, string>; values?: Item }): Promise<Item | undefined> {
    const fields = Object.keys(values);
    const out = await conditionalWrite('dynamodb:UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk },
          UpdateExpression: `SET ${fields.map((f) => `#${f} = :${f}`).join(', ')}`,
          ConditionExpression: when.condition ? `attribute_exists(pk) AND ${when.condition}` : 'attribute_exists(pk)',
          ExpressionAttributeNames: { ...Object.fromEntries(fields.map((f) => [`#${f}`, f])), ...when.names },
          ExpressionAttributeValues: { ...Object.fromEntries(fields.map((f) => [`:${f}`, values[f]])), ...when.values },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes;
  }
}
