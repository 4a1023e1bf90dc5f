import { DescribeImagesCommand, type EC2Client, type Filter, type Image } from '@aws-sdk/client-ec2';
import { callAws } from '../aws/call.js';

/** The image lookups target resolution needs (port; `ec2ImageSource` is the EC2 adapter). */
export interface ImageSource {
  /** The image, deprecated or disabled included, or undefined when EC2 does not know it. */
  byId(imageId: string): Promise<Image | undefined>;
  /** Available images of these owners (`self`, `amazon`, account ids) matching every filter; all pages. */
  search(owners: readonly string[], filters: readonly Filter[]): Promise<Image[]>;
}

export function ec2ImageSource(ec2: EC2Client): ImageSource {
  return {
    async byId(imageId) {
      // asked for by id, EC2 lists deprecated images anyway; disabled ones only when asked
      const out = await callAws('ec2:DescribeImages', () =>
        ec2.send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDeprecated: true, IncludeDisabled: true })),
      ).catch((error: Error) => {
        if (error.name === 'InvalidAMIID.NotFound' || error.name === 'InvalidAMIID.Malformed' || error.name === 'InvalidAMIID.Unavailable') return undefined;
        throw error;
      });
      return out?.Images?.find((image) => image.ImageId === imageId);
    },

    async search(owners, filters) {
      const images: Image[] = [];
      let nextToken: string | undefined;
      do {
        const out = await callAws('ec2:DescribeImages', () =>
          ec2.send(
            new DescribeImagesCommand({
              Owners: [...owners],
              Filters: [...filters, { Name: 'state', Values: ['available'] }],
              MaxResults: 1000,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          ),
        );
        images.push(...(out.Images ?? []));
        nextToken = out.NextToken;
      } while (nextToken);
      return images;
    },
  };
}

/**
 * The AMIs an EC2 Image Builder image produced in this region: Image Builder tags each output
 * AMI `Ec2ImageBuilderArn` = the image's ARN
 * (https://docs.aws.amazon.com/imagebuilder/latest/userguide/tag-resources.html). One call.
 */
export async function imagesBuiltBy(ec2: EC2Client, imageBuilderArn: string): Promise<Image[]> {
  const out = await callAws('ec2:DescribeImages', () => ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'tag:Ec2ImageBuilderArn', Values: [imageBuilderArn] }] })));
  return out.Images ?? [];
}
