// The architecture's boundaries are enforced by eslint.config.js. Each rule is run here, through the repo's
// own config, on source text placed at a path inside the real tree (so the config's globs apply), and must
// fail on a deliberate violation and pass on the allowed import beside it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const BOUNDARY_RULES = new Set(['import/no-restricted-paths', 'no-restricted-imports']);

// Only the boundary rules run, so the fixtures need no type information (they exist on no disk).
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => BOUNDARY_RULES.has(ruleId),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The boundary problems ESLint reports for `code` placed at `path` (relative to the repo root). */
async function lint(path: string, code: string): Promise<{ rule: string; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  assert.ok(result !== undefined);
  const fatal = result.messages.filter((m) => m.ruleId === null);
  assert.deepEqual(fatal, [], `${path} parsed`);
  return result.messages.map((m) => ({ rule: m.ruleId ?? '', message: m.message }));
}

/** An import of a real file, from `path`: an import that does not resolve would prove nothing. */
function relativeImport(from: string, target: string, form: 'value' | 'type' | 'dynamic' = 'value'): string {
  assert.ok(existsSync(join(root, target)), `${target} exists`);
  let specifier = join(
    ...dirname(from)
      .split('/')
      .map(() => '..'),
    target,
  );
  assert.equal(resolve(root, dirname(from), specifier), join(root, target));
  if (!specifier.startsWith('.')) specifier = `./${specifier}`;
  if (form === 'dynamic') return `export const loaded = () => import('${specifier}');\n`;
  return form === 'type'
    ? `import type { Anything } from '${specifier}';\n`
    : `import { anything } from '${specifier}';\n`;
}

async function assertRefused(path: string, code: string, rule: string, message: RegExp): Promise<void> {
  const problems = await lint(path, code);
  assert.ok(
    problems.some((p) => p.rule === rule && message.test(p.message)),
    `${path} importing ${code.trim()} is refused by ${rule}; got ${JSON.stringify(problems)}`,
  );
}

async function assertAllowed(path: string, code: string): Promise<void> {
  assert.deepEqual(await lint(path, code), [], `${path} may import ${code.trim()}`);
}

describe('package boundaries', () => {
  test('the orchestrator never imports the agent, by path or by package name', async () => {
    const file = 'orchestrator/src/services/lint-fixture.ts';
    await assertRefused(
      file,
      relativeImport(file, 'agent-image/src/domain/audit-record.ts'),
      'import/no-restricted-paths',
      /orchestrator never imports the agent/,
    );
    await assertRefused(
      'orchestrator/src/cli/lint-fixture.ts',
      relativeImport(
        'orchestrator/src/cli/lint-fixture.ts',
        'agent-image/src/domain/audit-record.ts',
        'type',
      ),
      'import/no-restricted-paths',
      /never imports the agent/,
    );
    await assertRefused(
      file,
      `import { x } from '@agent-fleet/agent/src/domain/audit-record.ts';\n`,
      'no-restricted-imports',
      /@agent-fleet\/kernel/,
    );
    await assertRefused(
      'orchestrator/src/main.ts',
      `import '@agent-fleet/agent';\n`,
      'no-restricted-imports',
      /Only the agent imports the agent/,
    );
    await assertAllowed(
      file,
      `import { FleetError } from '@agent-fleet/kernel/fleet-error';\n` +
        relativeImport(file, 'orchestrator/src/domain/client-status.ts'),
    );
  });

  test('the agent never imports the orchestrator, by path or by package name', async () => {
    const file = 'agent-image/src/services/lint-fixture.ts';
    await assertRefused(
      file,
      relativeImport(file, 'orchestrator/src/domain/client-status.ts'),
      'import/no-restricted-paths',
      /agent never imports the orchestrator/,
    );
    await assertRefused(
      'agent-image/src/http/lint-fixture.ts',
      `import { x } from '@agent-fleet/orchestrator/src/domain/client-status.ts';\n`,
      'no-restricted-imports',
      /Only the orchestrator/,
    );
    await assertAllowed(
      file,
      `import { parseClientId } from '@agent-fleet/kernel/client-id';\n` +
        relativeImport(file, 'agent-image/src/domain/audit-record.ts'),
    );
  });

  test('the kernel imports neither the agent nor the orchestrator', async () => {
    const file = 'kernel/src/domain/lint-fixture.ts';
    await assertRefused(
      file,
      relativeImport(file, 'agent-image/src/domain/audit-record.ts'),
      'import/no-restricted-paths',
      /kernel\/ imports neither/,
    );
    await assertRefused(
      file,
      relativeImport(file, 'orchestrator/src/domain/client-status.ts'),
      'import/no-restricted-paths',
      /kernel\/ imports neither/,
    );
    await assertRefused(file, `import '@agent-fleet/agent';\n`, 'no-restricted-imports', /Only the agent/);
    await assertRefused(
      'kernel/src/observability/lint-fixture.ts',
      `import '@agent-fleet/orchestrator/package.json';\n`,
      'no-restricted-imports',
      /Only the orchestrator/,
    );
    await assertAllowed(file, relativeImport(file, 'kernel/src/domain/fleet-error.ts'));
  });
});

describe('layer boundaries', () => {
  test('domain/ imports neither ports/, adapters/ nor services/, in every package', async () => {
    const orchestratorDomain = 'orchestrator/src/domain/lint-fixture.ts';
    for (const target of [
      'orchestrator/src/ports/registry.ts',
      'orchestrator/src/adapters/docker/agent-container-options.ts',
      'orchestrator/src/services/provision-client.ts',
    ]) {
      await assertRefused(
        orchestratorDomain,
        relativeImport(orchestratorDomain, target, 'type'),
        'import/no-restricted-paths',
        /domain\/ is pure/,
      );
    }
    const agentDomain = 'agent-image/src/domain/policy/lint-fixture.ts';
    for (const target of [
      'agent-image/src/ports/mail-provider.ts',
      'agent-image/src/adapters/gmail/gmail-mail-provider.ts',
      'agent-image/src/services/audit-log/audit-log.ts',
    ]) {
      await assertRefused(
        agentDomain,
        relativeImport(agentDomain, target),
        'import/no-restricted-paths',
        /domain\/ is pure/,
      );
    }
    const kernelDomain = 'kernel/src/domain/lint-fixture.ts';
    await assertRefused(
      kernelDomain,
      relativeImport(kernelDomain, 'kernel/src/adapters/vault-client.ts'),
      'import/no-restricted-paths',
      /domain\/ is pure/,
    );
    // The kernel's adapters reached by package name, where no path is visible.
    await assertRefused(
      agentDomain,
      `import { createVaultClient } from '@agent-fleet/kernel/vault-client';\n`,
      'no-restricted-imports',
      /never import adapters/,
    );
    await assertAllowed(
      agentDomain,
      `import { FleetError } from '@agent-fleet/kernel/fleet-error';\n` +
        relativeImport(agentDomain, 'agent-image/src/domain/audit-record.ts'),
    );
    await assertAllowed(
      orchestratorDomain,
      relativeImport(orchestratorDomain, 'orchestrator/src/domain/client-status.ts', 'type'),
    );
  });

  test('services/ never import adapters/; the composition roots do', async () => {
    const file = 'orchestrator/src/services/lint-fixture.ts';
    const adapter = 'orchestrator/src/adapters/docker/docker-container-runtime.ts';
    await assertRefused(
      file,
      relativeImport(file, adapter),
      'import/no-restricted-paths',
      /services\/ depend on ports\//,
    );
    await assertRefused(
      file,
      relativeImport(file, adapter, 'dynamic'),
      'import/no-restricted-paths',
      /services\/ depend on ports\//,
    );
    const agentService = 'agent-image/src/services/runtime/lint-fixture.ts';
    await assertRefused(
      agentService,
      relativeImport(agentService, 'agent-image/src/adapters/gmail/gmail-mail-provider.ts', 'type'),
      'import/no-restricted-paths',
      /services\/ depend on ports\//,
    );
    await assertRefused(
      file,
      `import { createVaultClient } from '@agent-fleet/kernel/vault-client';\n`,
      'no-restricted-imports',
      /never import adapters/,
    );
    await assertAllowed(file, relativeImport(file, 'orchestrator/src/ports/registry.ts', 'type'));
    await assertAllowed('orchestrator/src/main.ts', relativeImport('orchestrator/src/main.ts', adapter));
    await assertAllowed(
      'agent-image/src/main.ts',
      relativeImport('agent-image/src/main.ts', 'agent-image/src/adapters/gmail/gmail-mail-provider.ts'),
    );
    await assertAllowed(
      'orchestrator/src/adapters/vault/lint-fixture.ts',
      `import { createVaultClient } from '@agent-fleet/kernel/vault-client';\n`,
    );
  });
});

describe('SDKs and express', () => {
  const sdks = [
    'dockerode',
    'node-vault',
    'pg',
    '@electric-sql/pglite',
    'googleapis',
    'google-auth-library',
    'jose',
    '@microsoft/microsoft-graph-client',
    '@azure/msal-node',
    '@anthropic-ai/sdk',
    'nodemailer',
    'mailparser',
  ];

  test('every vendor SDK is imported only inside adapters/', async () => {
    for (const sdk of sdks) {
      for (const file of [
        'orchestrator/src/services/lint-fixture.ts',
        'agent-image/src/domain/lint-fixture.ts',
        'orchestrator/src/http/lint-fixture.ts',
        'agent-image/src/main.ts',
        'kernel/src/domain/lint-fixture.ts',
      ]) {
        await assertRefused(
          file,
          `import sdk from '${sdk}';\n`,
          'no-restricted-imports',
          /SDKs are imported only inside adapters/,
        );
      }
      await assertAllowed('orchestrator/src/adapters/lint/lint-fixture.ts', `import sdk from '${sdk}';\n`);
      await assertAllowed('agent-image/src/adapters/lint/lint-fixture.ts', `import sdk from '${sdk}';\n`);
    }
    // Subpaths too, and type-only imports: ports speak our types, never an SDK's.
    await assertRefused(
      'agent-image/src/ports/lint-fixture.ts',
      `import type { gmail_v1 } from 'googleapis/build/src/apis/gmail/v1.js';\n`,
      'no-restricted-imports',
      /SDKs/,
    );
    await assertRefused(
      'orchestrator/src/ports/lint-fixture.ts',
      `import type Docker from 'dockerode';\n`,
      'no-restricted-imports',
      /SDKs/,
    );
    await assertAllowed('kernel/src/adapters/lint-fixture.ts', `import vault from 'node-vault';\n`);
    // A name that merely starts like an SDK is not one.
    await assertAllowed(
      'orchestrator/src/services/lint-fixture.ts',
      `import { x } from 'pg-format-like';\nimport { Cron } from 'croner';\n`,
    );
  });

  test('express and its middleware only in http/ and the portal', async () => {
    for (const name of ['express', 'express-rate-limit', 'helmet']) {
      for (const file of [
        'orchestrator/src/services/lint-fixture.ts',
        'agent-image/src/services/runtime/lint-fixture.ts',
        'orchestrator/src/adapters/http/lint-fixture.ts',
        'orchestrator/src/cli/lint-fixture.ts',
        'orchestrator/src/main.ts',
      ]) {
        await assertRefused(
          file,
          `import x from '${name}';\n`,
          'no-restricted-imports',
          /only inside http\//,
        );
      }
      for (const file of [
        'orchestrator/src/http/lint-fixture.ts',
        'agent-image/src/http/lint-fixture.ts',
        'orchestrator/src/portal/lint-fixture.ts',
        'orchestrator/src/portal/routes/lint-fixture.ts',
      ]) {
        await assertAllowed(file, `import x from '${name}';\n`);
      }
    }
  });

  test('tests and scripts are exempt: they exercise every layer from outside', async () => {
    const code =
      `import Docker from 'dockerode';\nimport express from 'express';\n` +
      relativeImport(
        'tests/integration/lint-fixture.test.ts',
        'agent-image/src/adapters/gmail/gmail-mail-provider.ts',
      ) +
      relativeImport(
        'tests/integration/lint-fixture.test.ts',
        'orchestrator/src/adapters/docker/docker-container-runtime.ts',
      );
    await assertAllowed('tests/integration/lint-fixture.test.ts', code);
    await assertAllowed(
      'scripts/lint-fixture.ts',
      `import Docker from 'dockerode';\nimport express from 'express';\n`,
    );
  });
});
