/**
 * Operator commands (until the operator tooling ships):
 *
 *   npm run admin -- org:create <organization-id> "<name>"
 *       creates an organization and its first admin key (every scope); prints the secret once
 *   npm run admin -- key:create <organization-id> "<name>" <scope[,scope...]> [expires-at]
 *   npm run admin -- org:suspend <organization-id> "<reason>"
 *       every key of the organization answers 401 on every replica within seconds
 *   npm run admin -- org:reactivate <organization-id> "<reason>"
 *
 * Writes through the api service's own role and tables, with an audit event (actor: operator).
 * The key works on every service within a second (their registries refresh).
 */
import { hostname, userInfo } from 'node:os';

import { AccessRepository } from '@veil/api/admin';
import { AuditEvent, OrganizationId } from '@veil/contracts';
import { SCOPES, type Scope } from '@veil/platform/auth';
import { loadInfraEnv } from '@veil/platform/config';
import { createServiceDataSource } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { serviceEntry, serviceEnvironment } from '@veil/service-catalog';

function usage(): never {
  process.stderr.write(
    'usage:\n  npm run admin -- org:create <organization-id> "<name>"\n  npm run admin -- key:create <organization-id> "<name>" <scope,...> [expires-at]\n' +
      '  npm run admin -- org:suspend <organization-id> "<reason>"\n  npm run admin -- org:reactivate <organization-id> "<reason>"\n' +
      `scopes: ${SCOPES.join(', ')}\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const [command, organizationId, name, scopeList, expiresAt] = process.argv.slice(2);
  if (!command || !organizationId || !name) usage();
  if (!OrganizationId.safeParse(organizationId).success) {
    process.stderr.write('organization id: 1-128 characters of A-Z a-z 0-9 _ . : - (e.g. org_acme)\n');
    process.exit(2);
  }
  loadInfraEnv();
  const entry = serviceEntry('api');
  const dataSource = createServiceDataSource({
    url: serviceEnvironment(entry, process.env).DATABASE_URL!,
    schema: entry.schema,
    applicationName: 'veil-admin',
    poolSize: 2,
  });
  await dataSource.initialize();
  const access = new AccessRepository(dataSource);
  const operator = `op_${userInfo().username}@${hostname()}`.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
  try {
    if (command === 'org:suspend' || command === 'org:reactivate') {
      const status = command === 'org:suspend' ? 'suspended' : 'active';
      const reason = name;
      await dataSource.transaction(async (tx) => {
        const before = await access.setOrganizationStatus(tx, organizationId, status);
        if (!before) throw new Error(`no organization ${organizationId}`);
        await new OutboxWriter('veil-admin').enqueue(
          tx,
          AuditEvent,
          {
            organizationId,
            data: {
              action: command === 'org:suspend' ? 'org.suspended' : 'org.reactivated',
              actor: { type: 'operator', id: operator },
              outcome: 'allowed',
              targets: { resourceIds: [organizationId] },
              purpose: reason,
              change: { field: 'status', before: [before], after: [status] },
            },
          },
          { ordered: false },
        );
      });
      process.stdout.write(`organization ${organizationId} is ${status}\n`);
      return;
    }
    let scopes: Scope[];
    if (command === 'org:create') {
      await access.createOrganization(organizationId, name);
      scopes = [...SCOPES];
    } else if (command === 'key:create') {
      scopes = (scopeList ?? '').split(',').filter(Boolean) as Scope[];
      const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (scopes.length === 0 || unknown.length > 0) usage();
      if (!(await access.organization(organizationId))) throw new Error(`no organization ${organizationId}`);
    } else {
      usage();
    }
    const key = await dataSource.transaction(async (tx) => {
      const created = await access.createKey(tx, organizationId, {
        name: command === 'org:create' ? `${name} admin` : name,
        scopes,
        ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
        createdBy: operator,
      });
      await new OutboxWriter('veil-admin').enqueue(
        tx,
        AuditEvent,
        {
          organizationId,
          data: {
            action: command === 'org:create' ? 'org.created' : 'api_key.created',
            actor: { type: 'operator', id: operator },
            outcome: 'allowed',
            targets: { resourceIds: [created.keyId] },
            change: { field: 'scopes', before: [], after: scopes },
          },
        },
        { ordered: false },
      );
      return created;
    });
    process.stdout.write(
      `${command === 'org:create' ? `organization ${organizationId} created\n` : ''}` +
        `API key ${key.keyId} (${key.scopes.join(', ')})\n\n  ${key.secret}\n\n` +
        'This secret is shown once; Veil keeps only its hash.\n',
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`admin: ${(error as Error).message}\n`);
  process.exit(1);
});
