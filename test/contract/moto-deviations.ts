/**
 * Where moto 5.2.1 answers otherwise than AWS documents. Each entry: what moto does, and the
 * AWS documentation that says otherwise; test/contract/README.md lists them for people.
 */
export const MOTO_DEVIATIONS = {
  'launch-template-version-client-token':
    'moto ignores CreateLaunchTemplateVersion ClientToken and creates another version; AWS: "Unique, case-sensitive identifier you provide to ensure the idempotency of the request" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html)',
  'launch-template-version-source-version':
    'moto builds a version from LaunchTemplateData alone, ignoring SourceVersion; AWS: "The new version inherits the same launch parameters as the source version, except for parameters that you specify in LaunchTemplateData" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html)',
} as const;

export type MotoDeviation = keyof typeof MOTO_DEVIATIONS;
