/**
 * `GET /metrics`: Paddock's metrics in the Prometheus text format, for the scraper holding the
 * configured token (`PADDOCK_METRICS_TOKEN`). A reverse proxy makes every request look local, so
 * the token, not the address, is what keeps them private; without one configured, metrics are
 * off (404). What is in them: docs/operations.md.
 */
import { NotFoundError } from '../../errors/index.ts';
import { defineRoute } from '../route.ts';

export const metricsRoutes = [
  defineRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Metrics in the Prometheus text format (scrape token)',
    tag: 'health',
    access: 'scrape',
    raw: { status: 200, description: 'The Prometheus text exposition', contentTypes: ['text/plain'] },
    handler: async ({ deps }) => {
      const metrics = deps.telemetry.metrics;
      if (!metrics) throw new NotFoundError('metrics_off', 'Metrics are off on this server.');
      return new Response(await metrics.scrape(), {
        headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
      });
    },
  }),
];
