/**
 * What operator tools, docs generation and benchmarks may use of the customer API (`@veil/api/admin`):
 * the rest of src/ is the service's own and may change without notice.
 */
export { AccessRepository } from './access/access.repository';
export { openApiDocument } from './http/openapi';
