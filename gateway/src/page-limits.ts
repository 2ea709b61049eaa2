import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';

const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQLModule;

/** How one paged field may be sliced: its slicing arguments and the largest page it serves. */
export interface PageLimit {
  slicingArguments: string[];
  max: number;
}

/** `Type.field` → its page limit. */
export type PageLimits = ReadonlyMap<string, PageLimit>;

/**
 * The page limits the subgraphs declare in their SDL, read from the supergraph: every field whose
 * page is bounded carries `@listSize(slicingArguments: ["first"], assumedSize: N)` (the cost spec,
 * composed into the supergraph); `assumedSize` is the largest page it serves, so `first` must be
 * 1–N. `npm run schema:check` fails a field with a `first` argument that declares none.
 */
export function pageLimitsFromSdl(supergraphSdl: string): PageLimits {
  const limits = new Map<string, PageLimit>();
  const document = graphql.parse(supergraphSdl);
  for (const definition of document.definitions) {
    if (
      definition.kind !== graphql.Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== graphql.Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== graphql.Kind.INTERFACE_TYPE_DEFINITION
    )
      continue;
    for (const field of definition.fields ?? []) {
      const listSize = field.directives?.find((d) => d.name.value === 'listSize');
      if (!listSize) continue;
      const argument = (name: string) => listSize.arguments?.find((a) => a.name.value === name)?.value;
      const slicing = argument('slicingArguments');
      const assumed = argument('assumedSize');
      const slicingArguments =
        slicing?.kind === graphql.Kind.LIST
          ? slicing.values.flatMap((v) => (v.kind === graphql.Kind.STRING ? [v.value] : []))
          : [];
      if (slicingArguments.length === 0 || assumed?.kind !== graphql.Kind.INT) continue;
      limits.set(`${definition.name.value}.${field.name.value}`, {
        slicingArguments,
        max: Number.parseInt(assumed.value, 10),
      });
    }
  }
  return limits;
}
