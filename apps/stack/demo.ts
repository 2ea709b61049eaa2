import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { sql } from 'kysely';
import type { GatewayExtension } from '@c2c/gateway';
import { DEV_AUDIENCE, DEV_ISSUER } from '@c2c/platform/auth';
import type { AnyDb } from '@c2c/platform/db';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';

// The systems' schemas, from the ownership rules (rover.yaml names the subgraphs; nothing here does).
const CRM = subgraphOfSystem('CRM');

/** The development route `npm run c2c -- demo exception` calls (the stack's gateway, development only). */
export const DEMO_FAULT_PATH = '/dev/demo/crm-fault';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Plants, for one subscription, the fault the demo needs: the CRM refuses to update that
 * subscription's contract line until the event has been dead-lettered, as a lock or a bad record
 * would. Its consumer retries, gives up and dead-letters the event; the amendment turns EXCEPTION;
 * a replay from the ops console (or `c2c replay`) then applies it and the amendment completes.
 * The trigger stays, harmless: once a dead letter for the subscription exists it lets every
 * update through.
 */
export async function plantCrmFault(db: AnyDb, subscriptionId: string): Promise<string> {
  if (!UUID.test(subscriptionId)) throw new Error('subscriptionId must be a UUID');
  const trigger = `demo_exception_${randomBytes(6).toString('hex')}`;
  await sql
    .raw(
      `create or replace function ${CRM}.demo_exception_refuse() returns trigger language plpgsql as $$
       begin
         if not exists (select 1 from ${CRM}.dead_letter d where d.subject = new.subscription_id::text) then
           raise exception 'demo exception: the CRM refuses the contract line of subscription % (planted by npm run c2c -- demo exception; press Replay)', new.subscription_id;
         end if;
         return new;
       end $$;
       create trigger ${trigger} before update on ${CRM}.contract_line for each row
       when (new.subscription_id = '${subscriptionId.toLowerCase()}')
       execute function ${CRM}.demo_exception_refuse();`,
    )
    .execute(db);
  return trigger;
}

/**
 * POST /dev/demo/crm-fault {"subscriptionId": "…"} with an admin token of the stack's development
 * issuer: plants `plantCrmFault`. Mounted by the one-process stack in development only (it owns the
 * database; the CLI cannot open an embedded PGlite the stack holds).
 */
export function demoExtension(db: AnyDb, jwks: JSONWebKeySet): GatewayExtension {
  const keys = createLocalJWKSet(jwks);
  const answer = (response: ServerResponse, status: number, body: unknown) => {
    response.statusCode = status;
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.setHeader('cache-control', 'no-store');
    response.end(JSON.stringify(body));
  };
  return {
    routes: async (request, response, url) => {
      if (url.pathname !== DEMO_FAULT_PATH) return false;
      if (request.method !== 'POST') {
        response.setHeader('allow', 'POST');
        answer(response, 405, { error: 'use POST' });
        return true;
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      try {
        const { payload } = await jwtVerify(bearer ?? '', keys, {
          issuer: DEV_ISSUER,
          audience: DEV_AUDIENCE,
        });
        if (payload.role !== 'admin') throw new Error('an admin token is needed');
      } catch (error) {
        answer(response, 401, {
          error: `an admin token of this stack's development issuer is needed (${(error as Error).message})`,
        });
        return true;
      }
      let body = '';
      for await (const chunk of request) {
        body += String(chunk);
        if (body.length > 1000) break;
      }
      let subscriptionId: unknown;
      try {
        subscriptionId = (JSON.parse(body) as { subscriptionId?: unknown }).subscriptionId;
      } catch {
        // answered below
      }
      if (typeof subscriptionId !== 'string' || !UUID.test(subscriptionId)) {
        answer(response, 400, { error: 'send {"subscriptionId": "<uuid>"}' });
        return true;
      }
      const trigger = await plantCrmFault(db, subscriptionId);
      answer(response, 200, { planted: trigger, subscriptionId });
      return true;
    },
  };
}
