import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

/** No Docker engine runs here, so the compose file is checked for structure and consistency instead. */
describe('docker-compose.yml', () => {
  const root = join(__dirname, '..');
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      {
        image: string;
        ports?: string[];
        healthcheck?: { test: unknown };
        environment?: Record<string, unknown>;
        volumes?: string[];
      }
    >;
    volumes: Record<string, unknown>;
  };

  it('brings up Kafka (KRaft), PostgreSQL and local-kms, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['kafka', 'kms', 'postgres']);
    for (const service of Object.values(compose.services)) {
      expect(service.image).toMatch(/^[a-z0-9./-]+:[\w.-]+$/);
      expect(service.healthcheck?.test).toBeDefined();
    }
    expect(compose.services.kafka!.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller' });
  });

  it('publishes ports on loopback only, on the same ports as tools/infra.sh', () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(ports.sort()).toEqual(['127.0.0.1:4599:8080', '127.0.0.1:5432:5432', '127.0.0.1:9092:9092']);
  });

  it('seeds local-kms from the committed seed file and keeps Kafka on the version the local stack runs', () => {
    expect(compose.services.kms!.volumes).toContain('./deploy/kms:/init:ro');
    const pom = readFileSync(join(root, 'deploy/kafka/pom.xml'), 'utf8');
    const kafkaVersion = /<kafka.version>([^<]+)<\/kafka.version>/.exec(pom)![1];
    expect(compose.services.kafka!.image).toBe(`apache/kafka:${kafkaVersion}`);
    for (const volume of Object.values(compose.services).flatMap((s) => s.volumes ?? [])) {
      const name = volume.split(':')[0]!;
      if (!name.startsWith('.')) expect(compose.volumes).toHaveProperty(name);
    }
  });
});
