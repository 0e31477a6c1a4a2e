import express, { type Router } from 'express';
import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OnboardingDoctor } from '../services/doctor/onboarding-doctor.ts';
import { opsCallerOf } from './admin-auth.ts';
import { parseBody } from './parse-body.ts';

// `actor` is written by the authentication (the signed-in member); a caller's own value never counts.
const actor = z.string().optional();

const doctorSchema = z
  .object({
    /** Plaintext canaries to look for in the client's volume, besides its own addresses. */
    markers: z.array(z.string().min(4).max(200)).max(20).default([]),
    /** Check and record a sandbox round against this mail emulator. */
    sandbox: z
      .object({ emulator: z.string().min(1).max(500) })
      .strict()
      .optional(),
    actor,
  })
  .strict();

const attestSchema = z
  .object({
    item: z.string().min(1).max(64),
    note: z.string().max(1000),
    notApplicable: z.boolean().default(false),
    actor,
  })
  .strict();

function memberOf(response: express.Response): string {
  const member = opsCallerOf(response)?.principal?.member;
  if (member === undefined) throw new FleetError('unauthorized', 'sign in first: fleet login <member>');
  return member;
}

/** `fleet doctor`: the onboarding checklist of a client, run and attested by a signed-in member. */
export function createDoctorRouter(doctor: OnboardingDoctor): Router {
  const router = express.Router();

  router.post('/clients/:id/doctor', async (request, response) => {
    const body = parseBody(doctorSchema, request.body);
    response.json(
      await doctor.check({
        clientId: request.params.id,
        member: memberOf(response),
        markers: body.markers,
        sandboxEmulator: body.sandbox?.emulator,
      }),
    );
  });

  router.post('/clients/:id/attestations', async (request, response) => {
    const body = parseBody(attestSchema, request.body);
    response
      .status(201)
      .json(
        await doctor.attest({
          clientId: request.params.id,
          item: body.item,
          note: body.note,
          notApplicable: body.notApplicable,
          member: memberOf(response),
        }),
      );
  });

  // The alerting pipeline as the service last checked it from outside (null: no Prometheus configured, or not checked yet).
  router.get('/monitoring', (_request, response) => {
    response.json({ monitoring: doctor.monitoringHealth() });
  });

  router.get('/clients/:id/onboarding', async (request, response) => {
    response.json(await doctor.summaryOf(request.params.id));
  });

  return router;
}
