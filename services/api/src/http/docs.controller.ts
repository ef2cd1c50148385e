import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { Controller, Get, Header } from '@nestjs/common';

import { openApiDocument } from './openapi';

const SWAGGER_UI = dirname(require.resolve('swagger-ui-dist/package.json'));
const cache = new Map<string, string>();
const asset = (file: string): string => {
  if (!cache.has(file)) cache.set(file, readFileSync(join(SWAGGER_UI, file), 'utf8'));
  return cache.get(file)!;
};

/** The OpenAPI document and a Swagger UI to read it, served without any external resource. */
@Controller('docs')
export class DocsController {
  private readonly document = openApiDocument();

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Veil API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#ui' });</script></body></html>`;
  }

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }

  @Get('assets/swagger-ui.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  css(): string {
    return asset('swagger-ui.css');
  }

  @Get('assets/swagger-ui-bundle.js')
  @Header('Content-Type', 'application/javascript; charset=utf-8')
  script(): string {
    return asset('swagger-ui-bundle.js');
  }
}
