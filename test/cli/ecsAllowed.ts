// SPDX-License-Identifier: MIT
// ECS 8.x allowed values of the categorization fields, copied from the ECS reference
// (https://www.elastic.co/docs/reference/ecs/ecs-allowed-values-event-kind, …-event-category,
// …-event-type) so tests check src/records/ecs.ts against the schema rather than against itself.
export const ECS_ALLOWED = {
  kind: ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'],
  category: [
    'api', 'authentication', 'configuration', 'database', 'driver', 'file', 'host', 'iam', 'intrusion_detection',
    'library', 'malware', 'network', 'package', 'process', 'registry', 'session', 'threat', 'vulnerability', 'web',
  ],
  type: [
    'access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'device', 'end', 'error',
    'group', 'indicator', 'info', 'installation', 'protocol', 'start', 'user',
  ],
} as const;
