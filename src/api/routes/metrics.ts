import type { App, Services } from '../app.js';

/** Prometheus text format: serving metrics, the in-server latency histograms, process metrics. */
export function registerMetricsRoutes(app: App, services: Services): void {
  app.get(
    '/metrics',
    {
      // Deployment names are tenants' data: site-admin keys only, unless configured for a private scraper.
      config: { auth: services.config.metricsPublic ? 'public' : 'admin' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (site-admin key, or public with MASS_METRICS_PUBLIC=1)',
        produces: ['text/plain'],
      },
    },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(await services.serving.metrics.text()),
  );
}
