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

describe('scramSha256Verifier', () => {
  it('matches the RFC 7677 test vector shape and never contains the password', async () => {
    const { scramSha256Verifier } = await import('./provision');
    const verifier = scramSha256Verifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
    // RFC 7677 section 3: SaltedPassword for "pencil" with this salt gives these keys.
    expect(verifier).toBe(
      'SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
    );
    expect(verifier).not.toContain('pencil');
  });
});
