import { DescribeImagesCommand, EC2Client, type Filter, type Image } from '@aws-sdk/client-ec2';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';

/** An AMI as EC2 describes it (DescribeImages): the domain reads EC2's own field names. */
export type ImageView = Image;
/** A DescribeImages filter (`{ Name: 'name', Values: ['amazon-eks-node-*'] }`). */
export type ImageFilter = Filter;

const ec2Of = (scope: AwsScope) => clientOf(scope, EC2Client);

/** The image, deprecated or disabled included, or undefined when EC2 does not know it. */
export async function describeImageById(scope: AwsScope, imageId: string): Promise<ImageView | undefined> {
  // asked for by id, EC2 lists deprecated images anyway; disabled ones only when asked
  const out = await callAws('ec2:DescribeImages', () =>
    ec2Of(scope).send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDeprecated: true, IncludeDisabled: true })),
  ).catch((error: Error) => {
    if (error.name === 'InvalidAMIID.NotFound' || error.name === 'InvalidAMIID.Malformed' || error.name === 'InvalidAMIID.Unavailable') return undefined;
    throw error;
  });
  return out?.Images?.find((image) => image.ImageId === imageId);
}

/** The image as EC2 lists it by id alone (not a disabled one); EC2's error when it does not know the id. */
export async function describeListedImage(scope: AwsScope, imageId: string): Promise<ImageView | undefined> {
  const out = await callAws('ec2:DescribeImages', () => ec2Of(scope).send(new DescribeImagesCommand({ ImageIds: [imageId] })));
  return out.Images?.[0];
}

/** Available images of these owners (`self`, `amazon`, account ids) matching every filter; all pages. */
export async function searchImages(scope: AwsScope, owners: readonly string[], filters: readonly ImageFilter[]): Promise<ImageView[]> {
  const images: ImageView[] = [];
  let nextToken: string | undefined;
  do {
    const out = await callAws('ec2:DescribeImages', () =>
      ec2Of(scope).send(
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
}

/** These images, deprecated ones included, by an `image-id` filter (100 a call): one image gone does not fail the others. */
export async function describeImagesById(scope: AwsScope, imageIds: readonly string[]): Promise<ImageView[]> {
  const images: ImageView[] = [];
  for (let i = 0; i < imageIds.length; i += 100) {
    const out = await callAws('ec2:DescribeImages', () => ec2Of(scope).send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: imageIds.slice(i, i + 100) }], IncludeDeprecated: true })));
    images.push(...(out.Images ?? []));
  }
  return images;
}

/**
 * The AMIs an EC2 Image Builder image produced in this region: Image Builder tags each output
 * AMI `Ec2ImageBuilderArn` = the image's ARN
 * (https://docs.aws.amazon.com/imagebuilder/latest/userguide/tag-resources.html). One call.
 */
export async function imagesBuiltBy(scope: AwsScope, imageBuilderArn: string): Promise<ImageView[]> {
  const out = await callAws('ec2:DescribeImages', () => ec2Of(scope).send(new DescribeImagesCommand({ Filters: [{ Name: 'tag:Ec2ImageBuilderArn', Values: [imageBuilderArn] }] })));
  return out.Images ?? [];
}
