import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsScope, clientOf } from './clients.js';

const documentClients = new WeakMap<AwsScope, DynamoDBDocumentClient>();

/**
 * The scope's DynamoDB document client (plain JavaScript values in, out), built on first use
 * over the scope's DynamoDB client: one per scope, shared by every table adapter. An
 * attribute whose value is undefined is left out of the item, as the tables have always been
 * written (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-aws-sdk-lib-dynamodb/).
 */
export function documentClientOf(scope: AwsScope): DynamoDBDocumentClient {
  let doc = documentClients.get(scope);
  if (!doc) {
    doc = DynamoDBDocumentClient.from(clientOf(scope, DynamoDBClient), { marshallOptions: { removeUndefinedValues: true } });
    documentClients.set(scope, doc);
  }
  return doc;
}
