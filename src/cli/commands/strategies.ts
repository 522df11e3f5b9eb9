import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadServiceConfig } from '../../config/service-config.js';
import { StrategyRegistry } from '../../strategies/registry.js';

export const STRATEGIES_USAGE = `Usage: strategy-runner strategies [--config FILE] [--json]

Lists the registered strategy types (built-in and from the strategyModules of
the service configuration) with their parameter schemas.

Options:
  --config FILE   service configuration (JSON) naming user strategy modules
  --json          print JSON (type, origin, description, JSON Schema of the parameters)
  -h, --help      this help
`;

export async function strategiesCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(STRATEGIES_USAGE);
    return 0;
  }
  const config = loadServiceConfig(values.config);
  const registry = await StrategyRegistry.create(config.strategyModules, config.baseDir);
  const list = registry.types().map((type) => {
    const def = registry.get(type)!;
    return {
      type,
      origin: registry.originOf(type),
      description: def.description ?? null,
      parameters: z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    };
  });
  if (values.json) {
    process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  for (const s of list) {
    out.push(`${s.type}  (${s.origin})`);
    if (s.description !== null) out.push(`  ${s.description}`);
    const props = (s.parameters['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    const required = new Set((s.parameters['required'] as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(props)) {
      out.push(`  - ${name}: ${describeSchema(schema)}${required.has(name) ? ' (required)' : ''}`);
    }
    out.push('');
  }
  process.stdout.write(out.join('\n'));
  return 0;
}

function describeSchema(s: Record<string, unknown>): string {
  const parts: string[] = [String(s['type'] ?? 'any')];
  // zod's int() carries the safe-integer bounds: not worth printing.
  if (s['minimum'] !== undefined && (s['minimum'] as number) > Number.MIN_SAFE_INTEGER) parts.push(`>= ${s['minimum']}`);
  if (s['exclusiveMinimum'] !== undefined) parts.push(`> ${s['exclusiveMinimum']}`);
  if (s['maximum'] !== undefined && (s['maximum'] as number) < Number.MAX_SAFE_INTEGER) parts.push(`<= ${s['maximum']}`);
  if (s['exclusiveMaximum'] !== undefined) parts.push(`< ${s['exclusiveMaximum']}`);
  if (s['default'] !== undefined) parts.push(`default ${JSON.stringify(s['default'])}`);
  return parts.join(', ');
}
