import { type DynamicModule, RequestMethod, type Type } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, Reflector } from '@nestjs/core';
import { INTERNAL_APIS, type InternalApi, type InternalOperation } from '@veil/contracts';
import { CallerGuard, servedOperation } from '@veil/platform/service';

type ModuleRef = Type | DynamicModule | Promise<DynamicModule>;

interface Route {
  handler: string;
  method: string;
  path: string;
  operation?: InternalOperation;
  guarded: boolean;
}

const reflector = new Reflector();

/** Every controller of a module and of the modules it imports, as Nest would find them. */
function controllersOf(module: ModuleRef, seen = new Set<unknown>()): Type[] {
  if (module instanceof Promise || seen.has(module)) return [];
  seen.add(module);
  const dynamic = typeof module === 'function' ? undefined : module;
  const type = dynamic ? dynamic.module : (module as Type);
  const read = <T>(key: string): T[] => (reflector.get<T[] | undefined>(key, type) ?? []) as T[];
  const imports = [...read<ModuleRef>(MODULE_METADATA.IMPORTS), ...(dynamic?.imports ?? [])] as ModuleRef[];
  return [
    ...read<Type>(MODULE_METADATA.CONTROLLERS),
    ...(dynamic?.controllers ?? []),
    ...imports.flatMap((m) => controllersOf(m, seen)),
  ];
}

function joinPath(...parts: unknown[]): string {
  return `/${parts
    .map((p) => (typeof p === 'string' ? p : ''))
    .join('/')
    .split('/')
    .filter(Boolean)
    .join('/')}`;
}

function routesOf(controller: Type): Route[] {
  const prototype = controller.prototype as Record<string, (...args: never[]) => unknown>;
  const classGuards = reflector.get<unknown[] | undefined>(GUARDS_METADATA, controller) ?? [];
  return new MetadataScanner().getAllMethodNames(prototype).flatMap((name) => {
    const handler = prototype[name]!;
    const method = reflector.get<RequestMethod | undefined>(METHOD_METADATA, handler);
    if (method === undefined) return [];
    const guards = [
      ...classGuards,
      ...(reflector.get<unknown[] | undefined>(GUARDS_METADATA, handler) ?? []),
    ];
    const operation = servedOperation(handler);
    return [
      {
        handler: `${controller.name}.${name}`,
        method: RequestMethod[method],
        path: joinPath(reflector.get(PATH_METADATA, controller), reflector.get(PATH_METADATA, handler)),
        ...(operation ? { operation } : {}),
        guarded: guards.includes(CallerGuard),
      },
    ];
  });
}

/**
 * How a service's controllers differ from its internal API contract, one line per difference (none
 * when they match): each operation is served by exactly one handler, a POST at the operation's path
 * behind CallerGuard; no handler serves another contract's operation, and CallerGuard guards only
 * handlers that name theirs. Read from Nest's metadata; nothing is started.
 */
export function internalApiDrift(module: ModuleRef, api: InternalApi): string[] {
  const problems: string[] = [];
  if (!INTERNAL_APIS.includes(api)) problems.push(`${api.service}: not in INTERNAL_APIS (undocumented)`);
  const own = Object.values(api.operations);
  const routes = [...new Set(controllersOf(module))].flatMap(routesOf);
  for (const route of routes) {
    const { operation } = route;
    if (!operation) {
      if (route.guarded) problems.push(`${route.handler}: behind CallerGuard but serves no operation`);
      continue;
    }
    if (!own.includes(operation)) {
      const owner = INTERNAL_APIS.find((a) => Object.values(a.operations).includes(operation));
      problems.push(
        `${route.handler}: serves an operation of ${owner ? `the ${owner.service} API` : 'no contract in INTERNAL_APIS'}`,
      );
    }
    if (route.method !== 'POST' || route.path !== operation.path)
      problems.push(
        `${route.handler}: ${route.method} ${route.path}, but its operation is POST ${operation.path}`,
      );
    if (!route.guarded) problems.push(`${route.handler}: serves an operation but is not behind CallerGuard`);
  }
  for (const [name, operation] of Object.entries(api.operations)) {
    const handlers = routes.filter((r) => r.operation === operation).map((r) => r.handler);
    if (handlers.length !== 1)
      problems.push(
        `${api.service} ${name}: served by ${handlers.length} handlers${handlers.length ? ` (${handlers.join(', ')})` : ''}`,
      );
  }
  return problems;
}
