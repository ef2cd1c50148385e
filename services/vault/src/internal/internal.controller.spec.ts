import { VaultApi } from '@veil/contracts';
import { internalApiDrift } from '@veil/testing';

import { AppModule } from '../app.module';
import type { VaultConfig } from '../config';

describe("the vault's internal routes", () => {
  it('serve every operation of VaultApi, each by one POST handler at its path behind CallerGuard, and nothing else', () => {
    expect(internalApiDrift(AppModule.register({} as VaultConfig), VaultApi)).toEqual([]);
  });
});
