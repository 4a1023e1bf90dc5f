/**
 * The detail-type of each rollout phase. Apart from the schemas (rollout-events.ts), so a
 * publisher names its events without building every schema at its cold start.
 */
export const ROLLOUT_EVENTS = {
  planned: 'Rollout Planned',
  'approval-requested': 'Rollout Approval Requested',
  approved: 'Rollout Approved',
  'canary-passed': 'Rollout Canary Passed',
  'batch-finished': 'Rollout Batch Finished',
  paused: 'Rollout Paused',
  resumed: 'Rollout Resumed',
  'rolling-back': 'Rollout Rolling Back',
  'rolled-back': 'Rollout Rolled Back',
  aborted: 'Rollout Aborted',
  finished: 'Rollout Finished',
  'rollback-failed': 'Rollout Rollback Failed',
  failed: 'Rollout Failed',
  declined: 'Rollout Declined',
} as const;

export type RolloutEventName = keyof typeof ROLLOUT_EVENTS;
