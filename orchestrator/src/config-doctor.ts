import * as z from 'zod';
import { hasNoUserInfo, NO_USER_INFO } from './config-url.ts';

// The onboarding doctor's part of the orchestrator's environment schema, kept beside config.ts (which
// merges it in and alone reads the environment) like config-egress.ts.

export const doctorEnvShape = {
  /**
   * Prometheus that scrapes the fleet (its HTTP API, e.g. http://127.0.0.1:9090), asked by `fleet doctor`
   * whether a client's target is up and the anomaly rules are loaded, and by an erasure, which deletes the
   * client's series through its admin API (Prometheus started with --web.enable-admin-api; else the deletion
   * certificate says `failed` with that reason). Default: none (that item stays pending; the certificate
   * says `not-configured`).
   */
  FLEET_PROMETHEUS_URL: z
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL')
    .refine(hasNoUserInfo, NO_USER_INFO)
    .optional(),
  /**
   * Alertmanager's API (e.g. http://127.0.0.1:9093), whose active silences naming a client an erasure or a
   * purge expires (their matchers and comments may name the client's people). Default: none (the deletion
   * certificate says `not-configured`).
   */
  FLEET_ALERTMANAGER_URL: z
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL')
    .refine(hasNoUserInfo, NO_USER_INFO)
    .optional(),
} as const;

type DoctorEnv = z.output<z.ZodObject<typeof doctorEnvShape>>;

export interface DoctorConfig {
  /** Where `fleet doctor` asks about targets and loaded rules; undefined: not configured. */
  prometheusUrl: string | undefined;
  /** Whose silences of a deleted client are expired; undefined: not configured. */
  alertmanagerUrl: string | undefined;
}

export function doctorConfigOf(env: DoctorEnv): DoctorConfig {
  return { prometheusUrl: env.FLEET_PROMETHEUS_URL, alertmanagerUrl: env.FLEET_ALERTMANAGER_URL };
}
