/* eslint-disable @typescript-eslint/no-empty-function -- the handlers are never called: only their metadata is read */
import { Controller, Get, Module, Post, UseGuards } from '@nestjs/common';
import { defineInternalApi, VaultApi } from '@veil/contracts';
import { CallerGuard, ServesOperation } from '@veil/platform/service';
import { z } from 'zod';

import { internalApiDrift } from './internal-api-drift';

const operation = (path: string) => ({
  path,
  description: 'test',
  request: z.strictObject({}),
  response: z.strictObject({}),
  callers: ['api'],
});
const Fake = defineInternalApi({
  service: 'fake',
  description: 'test',
  operations: {
    a: operation('/internal/v1/fake/a'),
    b: operation('/internal/v1/fake/b'),
    c: operation('/internal/v1/fake/c'),
  },
});
const { a, b, c } = Fake.operations;

@Controller()
@UseGuards(CallerGuard)
class Matching {
  @Post(a.path) @ServesOperation(a) a() {}
  @Post(b.path) @ServesOperation(b) b() {}
}

@Controller('internal/v1/fake')
@UseGuards(CallerGuard)
class MatchingUnderPrefix {
  @Post('c') @ServesOperation(c) c() {}
}

@Controller()
@UseGuards(CallerGuard)
class Drifted {
  @Post('/internal/v1/fake/a-renamed') @ServesOperation(a) a() {}
  @Post(b.path) @ServesOperation(b) b1() {}
  @Get(b.path) @ServesOperation(b) b2() {}
  @Post(VaultApi.operations.store.path) @ServesOperation(VaultApi.operations.store) store() {}
  @Post('/internal/v1/fake/d') unnamed() {}
}

@Controller()
class Unguarded {
  @Post(c.path) @ServesOperation(c) c() {}
}

@Module({ controllers: [Unguarded] })
class Imported {}

@Module({})
class Root {}

describe('internalApiDrift', () => {
  it('finds only the missing INTERNAL_APIS entry when each operation has one guarded POST handler at its path', () => {
    const drift = internalApiDrift(
      {
        module: Root,
        imports: [{ module: Root, controllers: [MatchingUnderPrefix] }],
        controllers: [Matching],
      },
      Fake,
    );
    expect(drift).toEqual(['fake: not in INTERNAL_APIS (undocumented)']);
  });

  it("names paths and methods that differ, operations served twice, unguarded or never, and another API's", () => {
    const drift = internalApiDrift({ module: Root, imports: [Imported], controllers: [Drifted] }, Fake);
    expect([...drift].sort()).toEqual(
      [
        'fake: not in INTERNAL_APIS (undocumented)',
        'Drifted.a: POST /internal/v1/fake/a-renamed, but its operation is POST /internal/v1/fake/a',
        'Drifted.b2: GET /internal/v1/fake/b, but its operation is POST /internal/v1/fake/b',
        'Drifted.store: serves an operation of the vault API',
        'Drifted.unnamed: behind CallerGuard but serves no operation',
        'Unguarded.c: serves an operation but is not behind CallerGuard',
        'fake b: served by 2 handlers (Drifted.b1, Drifted.b2)',
      ].sort(),
    );
    expect(internalApiDrift({ module: Root }, Fake)).toContain('fake a: served by 0 handlers');
  });
});
