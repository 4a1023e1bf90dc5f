import type { AwsScope } from '../aws/clients.js';
import { describeImageById, type ImageFilter, type ImageView, searchImages } from '../aws/images.js';

/** The image lookups target resolution needs (port; `ec2ImageSource` is the EC2 adapter). */
export interface ImageSource {
  /** The image, deprecated or disabled included, or undefined when EC2 does not know it. */
  byId(imageId: string): Promise<ImageView | undefined>;
  /** Available images of these owners (`self`, `amazon`, account ids) matching every filter; all pages. */
  search(owners: readonly string[], filters: readonly ImageFilter[]): Promise<ImageView[]>;
}

export function ec2ImageSource(scope: AwsScope): ImageSource {
  return {
    byId: (imageId) => describeImageById(scope, imageId),
    search: (owners, filters) => searchImages(scope, owners, filters),
  };
}
