import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An extra route handler of `createGraphQLHttpServer`: true when it answered the request. */
export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
) => Promise<boolean> | boolean;

/** One `routes` option from several handlers, tried in order until one answers. */
export function chainRoutes(...handlers: RouteHandler[]): RouteHandler {
  return async (request, response, url) => {
    for (const handler of handlers) if (await handler(request, response, url)) return true;
    return false;
  };
}

/** A file served from memory: read once at start, with its content type and a strong ETag. */
export interface StaticAsset {
  body: Buffer;
  type: string;
  etag: string;
}

export function staticAsset(body: Buffer, type: string): StaticAsset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** Answers GET/HEAD with the asset: 304 when the client has it (If-None-Match), else 200 and the body. */
export function sendStaticAsset(
  request: IncomingMessage,
  response: ServerResponse,
  asset: StaticAsset,
): true {
  response.setHeader('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) {
    response.statusCode = 304;
    response.end();
    return true;
  }
  response.statusCode = 200;
  response.setHeader('content-type', asset.type);
  response.setHeader('content-length', String(asset.body.length));
  response.end(request.method === 'HEAD' ? undefined : asset.body);
  return true;
}
