/** One check of the preflight (preflight.ts): its verdict, why, and what to do about a failure. */
export type PreflightCheckName = 'image-available' | 'image-owner' | 'launch-template-valid' | 'node-role-can-join' | 'node-role-policies' | 'subnet-addresses' | 'kubernetes-version';

export interface PreflightCheck {
  name: PreflightCheckName;
  ok: boolean;
  detail: string;
  /** what to do about a failure: a command or a snippet to paste */
  fix?: string;
}
