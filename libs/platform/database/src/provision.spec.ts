import { serviceDatabaseUrl, serviceRole } from './provision';

describe('service database identity', () => {
  it('derives the role and URL of a service from the admin URL, encoding the password', () => {
    expect(serviceRole('audit_log')).toBe('veil_audit_log');
    expect(
      serviceDatabaseUrl('postgres://postgres:admin@db.internal:5433/veil?sslmode=require', {
        schema: 'vault',
        password: 'p@ss/word',
      }),
    ).toBe('postgres://veil_vault:p%40ss%2Fword@db.internal:5433/veil?sslmode=require');
  });
});
