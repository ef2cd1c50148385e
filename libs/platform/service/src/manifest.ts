import type { Type } from '@nestjs/common';
import { callersOf, type InternalApi, TOPICS } from '@veil/contracts';
import { serviceDatabaseUrl } from '@veil/platform/database';

/**
 * A secret a service reads from its environment. Outside local mode the deployment sets it (a service
 * refuses to start without it); the local stack (VEIL_MODE=local) derives a well-known one from its name.
 */
export interface ServiceSecret {
  readonly name: string;
  /** `token`: a bearer credential; `key`: key material, base64 of at least 32 bytes. */
  readonly kind: 'token' | 'key';
}

/** An internal API a service serves, and the variables its callers' credentials and its URL go by. */
export interface ServedApi {
  readonly api: InternalApi;
  /**
   * The variable the server reads one caller's credential from; `{CALLER}` stands for the caller's name
   * in upper snake case. A name without it is only for an API with a single caller.
   */
  readonly callerTokens: string;
  /** The variable a caller reads its own credential from. */
  readonly token: string;
  /** The variable a caller reads the server's base URL from. */
  readonly url: string;
}

/** What a service declares about itself, next to its code; its environment is derived from all of them. */
export interface ServiceManifest {
  readonly name: string;
  /** What it owns, in a few words: the README's service table is generated from it. */
  readonly owns: string;
  /** PostgreSQL schema (and role veil_<schema>) the service owns. */
  readonly schema: string;
  readonly port: number;
  /** It uses AWS KMS: it gets the region, endpoint, credentials and key aliases. */
  readonly needsKms: boolean;
  /** Internal APIs it serves: it holds the credential of every caller their contracts name. */
  readonly serves?: readonly ServedApi[];
  /** Internal APIs it calls: it gets the server's URL and its own credential. */
  readonly calls?: readonly InternalApi[];
  /** Secrets no other service holds. */
  readonly secrets?: readonly ServiceSecret[];
  /** Secrets it holds together with other services (each of them declares it too). */
  readonly sharedSecrets?: readonly ServiceSecret[];
  /** Infrastructure settings it takes as they are, when set (e.g. a KMS key alias of its own). */
  readonly settings?: readonly string[];
  /** Its own migrations; the messaging tables' come first. */
  readonly migrations?: readonly Type<unknown>[];
}

/**
 * Password of a service's database role: VEIL_DB_PASSWORD_<SCHEMA>, or on the local stack
 * (VEIL_MODE=local) the well-known local one.
 */
export function serviceDatabasePassword(
  entry: ServiceManifest,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const password = env[`VEIL_DB_PASSWORD_${entry.schema.toUpperCase()}`];
  if (password) return password;
  if (env.VEIL_MODE === 'local') return `veil-local-${entry.schema}`;
  throw new Error(
    `VEIL_DB_PASSWORD_${entry.schema.toUpperCase()} is not set (required outside VEIL_MODE=local)`,
  );
}

/** The variable holding `caller`'s credential for `served`, as the server reads it. */
export function callerTokenVariable(served: ServedApi, caller: string): string {
  if (served.callerTokens.includes('{CALLER}'))
    return served.callerTokens.replace('{CALLER}', caller.toUpperCase().replace(/-/g, '_'));
  // Least privilege: callers never share a credential.
  const callers = callersOf(served.api);
  if (callers.length !== 1)
    throw new Error(
      `${served.api.service}: ${served.callerTokens} names no {CALLER} but the API has callers ${callers.join(', ')}`,
    );
  return served.callerTokens;
}

/** The local stack's well-known value of a secret (accepted in VEIL_MODE=local only). */
export function localSecret(secret: ServiceSecret): string {
  const name = `veil-local-${secret.name.toLowerCase().replace(/_/g, '-')}`;
  return secret.kind === 'key' ? Buffer.from(`${name}-for-the-local-stack`).toString('base64') : name;
}

/**
 * Holds the manifests to what the contracts say, so that every environment can be derived: unique
 * names, schemas and ports; each internal API served once, by the service its contract names, and
 * called by exactly the callers it names; a shared secret held by several services, of one kind.
 */
export function checkServiceCatalog(catalog: readonly ServiceManifest[]): readonly ServiceManifest[] {
  const problems: string[] = [];
  for (const key of ['name', 'schema', 'port'] as const) {
    const values = catalog.map((s) => s[key]);
    for (const value of new Set(values))
      if (values.filter((v) => v === value).length > 1) problems.push(`${key} ${value} is not unique`);
  }
  const servers = catalog.flatMap((s) => (s.serves ?? []).map((served) => ({ server: s, served })));
  for (const { server, served } of servers) {
    const { api } = served;
    if (api.service !== server.name) problems.push(`${server.name} serves the API of ${api.service}`);
    if (servers.filter((s) => s.served.api === api).length > 1) problems.push(`${api.service}: served twice`);
    const calling = catalog.filter((s) => s.calls?.includes(api)).map((s) => s.name);
    if (calling.sort().join() !== callersOf(api).join())
      problems.push(
        `${api.service}: its contract names callers ${callersOf(api).join(', ')}, manifests call it from ${calling.join(', ') || 'nowhere'}`,
      );
    try {
      for (const caller of callersOf(api)) callerTokenVariable(served, caller);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const s of catalog)
    for (const api of s.calls ?? [])
      if (!servers.some((x) => x.served.api === api))
        problems.push(`${s.name} calls ${api.service}: nobody serves it`);
  const secrets = catalog.flatMap((s) => [
    ...(s.secrets ?? []).map((secret) => ({ service: s.name, secret, shared: false })),
    ...(s.sharedSecrets ?? []).map((secret) => ({ service: s.name, secret, shared: true })),
  ]);
  for (const name of new Set(secrets.map((s) => s.secret.name))) {
    const holders = secrets.filter((s) => s.secret.name === name);
    const declaredShared = holders.filter((h) => h.shared).length;
    if (holders.length === 1 && declaredShared)
      problems.push(`${name}: declared shared, held by ${holders[0]!.service} only`);
    if (holders.length > 1 && declaredShared < holders.length)
      problems.push(
        `${name}: held by ${holders.map((h) => h.service).join(', ')}, each must declare it shared`,
      );
    if (new Set(holders.map((h) => h.secret.kind)).size > 1)
      problems.push(`${name}: declared of different kinds`);
  }
  if (problems.length) throw new Error(`inconsistent service manifests:\n  ${problems.join('\n  ')}`);
  return catalog;
}

/**
 * The environment a service process gets from the infrastructure settings (KAFKA_BROKERS,
 * DATABASE_URL as the admin connection, KMS_ENDPOINT, AWS_REGION): its own role and schema, and what
 * its manifest declares, wired to the other services of `catalog`.
 */
export function deriveServiceEnvironment(
  entry: ServiceManifest,
  catalog: readonly ServiceManifest[],
  infra: NodeJS.ProcessEnv,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_BROKERS: required(infra, 'KAFKA_BROKERS'),
    DATABASE_URL: serviceDatabaseUrl(required(infra, 'DATABASE_URL'), {
      schema: entry.schema,
      password: serviceDatabasePassword(entry, infra),
    }),
    DATABASE_SCHEMA: entry.schema,
    PORT: String(entry.port),
    // Detailed health and metrics, apart from the main port: 9000 + the service's offset.
    MANAGEMENT_PORT: String(entry.port + 6000),
    LOG_LEVEL: infra.LOG_LEVEL ?? 'log',
  };
  if (infra.VEIL_MODE) env.VEIL_MODE = infra.VEIL_MODE;
  // Topic retention overrides: what services say about how long raw records stay (e.g. the intake's).
  for (const topic of TOPICS)
    if (topic.retentionEnv && infra[topic.retentionEnv]) env[topic.retentionEnv] = infra[topic.retentionEnv]!;
  // Kafka: the infrastructure's protocol and CA; the service's own principal (veil-<service>).
  for (const key of ['KAFKA_SECURITY_PROTOCOL', 'KAFKA_SASL_MECHANISM', 'KAFKA_SSL_CA_FILE'])
    if (infra[key]) env[key] = infra[key]!;
  const kafkaPassword = infra[`VEIL_KAFKA_PASSWORD_${entry.schema.toUpperCase()}`];
  if (kafkaPassword) {
    env.KAFKA_SASL_USERNAME = `veil-${entry.name}`;
    env.KAFKA_SASL_PASSWORD = kafkaPassword;
  }
  // Secrets, and service-to-service credentials (each caller its own). Outside local mode they come
  // from the environment only (a service refuses to start without them); the local stack has defaults.
  const local = infra.VEIL_MODE === 'local';
  const secret = (s: ServiceSecret): string | undefined =>
    infra[s.name] ?? (local ? localSecret(s) : undefined);
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  for (const served of entry.serves ?? []) {
    for (const caller of callersOf(served.api)) {
      const name = callerTokenVariable(served, caller);
      set(name, secret({ name, kind: 'token' }));
    }
  }
  for (const api of entry.calls ?? []) {
    const server = catalog.find((s) => s.serves?.some((served) => served.api === api));
    const served = server?.serves?.find((x) => x.api === api);
    if (!server || !served) throw new Error(`${entry.name} calls ${api.service}, which no service serves`);
    if (!callersOf(api).includes(entry.name))
      throw new Error(`${entry.name} calls ${api.service}, whose contract does not name it as a caller`);
    set(served.token, secret({ name: callerTokenVariable(served, entry.name), kind: 'token' }));
    env[served.url] = infra[served.url] ?? `http://127.0.0.1:${server.port}`;
  }
  for (const s of [...(entry.secrets ?? []), ...(entry.sharedSecrets ?? [])]) set(s.name, secret(s));
  for (const name of entry.settings ?? []) if (infra[name]) env[name] = infra[name]!;
  if (entry.needsKms) {
    env.AWS_REGION = required(infra, 'AWS_REGION');
    for (const key of [
      'KMS_ENDPOINT',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'KMS_DATA_KEY_ALIAS',
    ]) {
      if (infra[key]) env[key] = infra[key]!;
    }
  }
  return { ...env, ...overrides };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: run "bash tools/infra.sh up" or set it`);
  return value;
}
