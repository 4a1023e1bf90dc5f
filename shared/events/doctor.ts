import * as z from 'zod/mini';
import { clusterName, placeFields } from './eventbridge.js';

/** Input of `doctorProbe`: the chat command functions ask it what the service sees of one cluster's Kubernetes API (a member's: its accountId and region). */
export const DoctorProbeInputSchema = z.strictObject({ ...placeFields, cluster: clusterName });
export type DoctorProbeInput = z.infer<typeof DoctorProbeInputSchema>;
