import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsScope, clientOf } from './clients.js';

/** Where a table adapter's DynamoDB is: a scope's client, or one given outright (a local DynamoDB in tests). */
export type TableSource = AwsScope | DynamoDBClient;

/** The document client of a table adapter: plain JavaScript values in and out, undefined attributes left out. */
export function documentClient(source: TableSource): DynamoDBDocumentClient {
  const client = source instanceof DynamoDBClient ? source : clientOf(source, DynamoDBClient);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
