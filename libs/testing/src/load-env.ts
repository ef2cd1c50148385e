// Jest setupFiles entry for integration tests: each test file sees the infrastructure settings.
import { loadInfraEnv } from '@veil/platform/config';

loadInfraEnv();
