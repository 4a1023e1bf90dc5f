import { DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';
import { tagMap } from './instances.js';

const ec2Of = (scope: AwsScope) => clientOf(scope, EC2Client);

/** Tags of a launch template, or undefined when it is gone. */
export async function describeLaunchTemplateTags(scope: AwsScope, launchTemplateId: string): Promise<Record<string, string> | undefined> {
  const out = await callAws('ec2:DescribeLaunchTemplates', () =>
    ec2Of(scope).send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] })),
  ).catch((error: Error) => {
    if (error.name.startsWith('InvalidLaunchTemplateId')) return undefined;
    throw error;
  });
  const template = out?.LaunchTemplates?.[0];
  return template ? tagMap(template.Tags) : undefined;
}
