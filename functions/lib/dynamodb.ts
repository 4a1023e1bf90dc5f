import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type AwsScope, clientOf } from '../../shared/aws/clients.js';

/** The scope's DynamoDB client, for the table classes that take one (the chat-ops table, the node group locks). */
export function dynamoDbOf(aws: AwsScope): DynamoDBClient {
  return clientOf(aws, DynamoDBClient);
}
