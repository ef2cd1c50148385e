import { AuditLogApi } from '@veil/contracts';
import { internalApiDrift } from '@veil/testing';

import { AppModule } from '../app.module';
import type { AuditLogConfig } from '../config';

describe("the audit log's internal routes", () => {
  it('serve every operation of AuditLogApi, each by one POST handler at its path behind CallerGuard, and nothing else', () => {
    expect(internalApiDrift(AppModule.register({} as AuditLogConfig), AuditLogApi)).toEqual([]);
  });
});
