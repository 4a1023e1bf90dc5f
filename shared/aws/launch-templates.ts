import { DescribeLaunchTemplatesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { callAws } from './call.js';
import { tagMap } from './instances.js';

/** Tags of a launch template, or undefined when it is gone. */
export async function describeLaunchTemplateTags(ec2: EC2Client, launchTemplateId: string): Promise<Record<string, string> | undefined> {
  const out = await callAws('ec2:DescribeLaunchTemplates', () =>
    ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] })),
  ).catch((error: Error) => {
    if (error.name.startsWith('InvalidLaunchTemplateId')) return undefined;
    throw error;
  });
  const template = out?.LaunchTemplates?.[0];
  return template ? tagMap(template.Tags) : undefined;
}
