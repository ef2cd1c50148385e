import type { z } from 'zod';

/**
 * One operation of a service's internal HTTP API, defined once for both sides: the path, the
 * request and response schemas, and which callers' credentials may use it (least privilege:
 * each calling service holds its own credential, allowed only its own operations).
 */
export interface InternalOperation<TRequest = unknown, TResponse = unknown> {
  readonly path: string;
  readonly description: string;
  readonly request: z.ZodType<TRequest>;
  readonly response: z.ZodType<TResponse>;
  readonly callers: readonly string[];
}

export interface InternalApi<
  TOps extends Record<string, InternalOperation> = Record<string, InternalOperation>,
> {
  /** The service that serves it. */
  readonly service: string;
  readonly description: string;
  readonly operations: TOps;
}

export type RequestOf<O> = O extends InternalOperation<infer R, unknown> ? R : never;
export type ResponseOf<O> = O extends InternalOperation<unknown, infer R> ? R : never;

export function defineInternalApi<TOps extends Record<string, InternalOperation>>(
  api: InternalApi<TOps>,
): InternalApi<TOps> {
  return api;
}

/** Every caller named by any operation of `api`: the credentials the server must be configured with. */
export function callersOf(api: InternalApi): string[] {
  return [...new Set(Object.values(api.operations).flatMap((op) => op.callers))].sort();
}
