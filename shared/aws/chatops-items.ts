import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { callAws, conditionalWrite } from './call.js';
import type { AwsScope } from './clients.js';
import { documentClientOf } from './dynamodb-documents.js';

/** An item of the chat-ops table as stored: plain values, keys included. */
export type Item = Record<string, unknown>;

/**
 * A table keyed `pk` + `sk` (TTL on `expiresAt` in epoch seconds) in which each store's
 * adapter writes its own items: the chat-ops table (audit, approvals, threads, request guards)
 * and the fleet table (promotions, freezes). The item operations they share. See
 * serverless.yml's ChatopsTable and FleetTable for the partitions.
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

  /** Every item of the partition (whose sort key starts with `prefix`, when given), in sort-key order: one Query, paged. */
  protected async queryAll(pk: string, prefix?: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await callAws('dynamodb:Query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ...(prefix === undefined ? {} : { ':prefix': prefix }) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Deletes the item; what it held, or undefined when there was none. */
  protected async remove(pk: string, sk: string): Promise<Item | undefined> {
    const out = await callAws('dynamodb:DeleteItem', () => this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk }, ReturnValues: 'ALL_OLD' })));
    return out.Attributes;
  }
}
