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
