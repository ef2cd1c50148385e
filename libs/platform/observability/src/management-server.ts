import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { HealthRegistry } from './health';
import type { MetricsService } from './metrics';

/**
 * The management listener, apart from the service's main (possibly customer-facing) port: health
 * with each dependency's state and error, and Prometheus metrics. Bind it where only operators and
 * the platform (probes, scrapers) reach it.
 */
export class ManagementServer {
  private server?: http.Server;

  constructor(
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
  ) {}

  async listen(port: number, host: string): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method !== 'GET') return send(405, 'application/json', '{"code":"method_not_allowed"}');
      switch (req.url?.split('?')[0]) {
        case '/health/live':
          return send(200, 'application/json', '{"status":"ok"}');
        case '/health/ready': {
          const { ready, checks } = await this.health.readiness();
          return send(
            ready ? 200 : 503,
            'application/json',
            JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks }),
          );
        }
        case '/metrics':
          return send(200, 'text/plain; version=0.0.4; charset=utf-8', await this.metrics.registry.metrics());
        default:
          return send(404, 'application/json', '{"code":"not_found"}');
      }
    } catch {
      send(500, 'application/json', '{"code":"internal_error"}');
    }
  }
}
