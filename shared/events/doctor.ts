import * as z from 'zod/mini';
import { clusterName } from './eventbridge.js';

/** Input of `doctorProbe`: the chat command functions ask it what the service sees of one cluster's Kubernetes API. */
export const DoctorProbeInputSchema = z.strictObject({ cluster: clusterName });
export type DoctorProbeInput = z.infer<typeof DoctorProbeInputSchema>;
