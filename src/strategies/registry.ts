import { createRequire } from 'node:module';
import { BarSpecsSchema } from './engine/bars.js';
import { formatIssues } from '../domain/tick.js';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import type { StrategyConfig } from '../config/strategy-config.js';
import { describeIssues, formatIssueList } from '../config/unknown-keys.js';
import { RunnerError } from '../errors.js';
import { BUILTIN_STRATEGIES } from './builtin/index.js';
import { definitionFromClass, isStrategyClass } from './sdk/base-strategy.js';
import { ensureSdkResolvable } from './sdk-resolution.js';
import type { AnyStrategyDefinition } from './sdk/types.js';

/** A strategy configuration resolved against the registry: its definition and validated parameters. */
export interface ResolvedStrategy {
  config: StrategyConfig;
  definition: AnyStrategyDefinition;
  /** parameters after the strategy's schema (defaults applied) */
  params: unknown;
}

/**
 * `strategy_type` → definition. Built-in types are registered by default;
 * user modules named in the service configuration add theirs. The same
 * registry is built on the main thread (to validate configurations before any
 * thread starts) and inside each worker thread (to create the instances).
 */
export class StrategyRegistry {
  readonly #defs = new Map<string, AnyStrategyDefinition>();
  readonly #origin = new Map<string, string>();

  constructor(options: { builtins?: boolean } = {}) {
    if (options.builtins !== false) for (const d of BUILTIN_STRATEGIES) this.register(d, 'builtin');
  }

  /** Build a registry with the built-ins and every export of each user module. */
  static async create(modules: readonly string[] = [], baseDir = process.cwd()): Promise<StrategyRegistry> {
    const reg = new StrategyRegistry();
    for (const m of modules) await reg.loadModule(m, baseDir);
    return reg;
  }

  register(def: AnyStrategyDefinition, origin = 'code'): void {
    const existing = this.#origin.get(def.type);
    if (existing !== undefined) {
      throw new RunnerError('STRATEGY_DUPLICATE_TYPE', `strategy type '${def.type}' from ${origin} is already registered by ${existing}`, {
        details: { strategy_type: def.type, origin, existing },
      });
    }
    if (def.bars !== undefined) {
      const r = BarSpecsSchema.safeParse(def.bars);
      if (!r.success) {
        throw new RunnerError('STRATEGY_DEFINITION_INVALID', `strategy type '${def.type}' from ${origin}: invalid bars: ${formatIssues(r.error)}`, {
          details: { strategy_type: def.type, origin },
        });
      }
    }
    this.#defs.set(def.type, def);
    this.#origin.set(def.type, origin);
  }

  has(type: string): boolean {
    return this.#defs.has(type);
  }

  get(type: string): AnyStrategyDefinition | undefined {
    return this.#defs.get(type);
  }

  types(): string[] {
    return [...this.#defs.keys()].sort();
  }

  originOf(type: string): string | undefined {
    return this.#origin.get(type);
  }

  /** Import a module (a path relative to baseDir, an absolute path, or a package name) and register what it exports. */
  async loadModule(specifier: string, baseDir: string): Promise<string[]> {
    let mod: Record<string, unknown>;
    const url = resolveModule(specifier, baseDir);
    try {
      ensureSdkResolvable(url);
      mod = (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new RunnerError('STRATEGY_MODULE_LOAD_FAILED', `strategy module '${specifier}' could not be loaded: ${(err as Error).message}`, {
        cause: err,
        details: { module: specifier, resolved: url },
      });
    }
    const found = collectDefinitions(mod);
    if (found.length === 0) {
      throw new RunnerError(
        'STRATEGY_DEFINITION_INVALID',
        `strategy module '${specifier}' exports no strategy: export defineStrategy(...) results or BaseStrategy subclasses with static type and params`,
        { details: { module: specifier, exports: Object.keys(mod) } },
      );
    }
    for (const def of found) this.register(def, `module '${specifier}'`);
    return found.map((d) => d.type);
  }

  /**
   * Find the definition and validate the parameters. Errors name the
   * strategy id, the field and the problem.
   */
  resolve(config: StrategyConfig): ResolvedStrategy {
    const definition = this.#defs.get(config.strategy_type);
    if (definition === undefined) {
      throw new RunnerError(
        'STRATEGY_TYPE_UNKNOWN',
        `strategy '${config.id}': unknown strategy_type '${config.strategy_type}'; known types: ${this.types().join(', ')}`,
        { details: { strategy_id: config.id, strategy_type: config.strategy_type, known_types: this.types() } },
      );
    }
    const schema = definition.params as z.ZodType;
    const r = schema.safeParse(config.parameters);
    // Unknown keys are mistakes too (a misspelled key would leave the strategy on
    // its default), unless the strategy's schema declares its keys open.
    const issues = describeIssues(schema, config.parameters, r.success ? undefined : r.error);
    if (!r.success || issues.length > 0) {
      throw new RunnerError(
        'STRATEGY_PARAMS_INVALID',
        `strategy '${config.id}' (${config.strategy_type}): invalid parameters: ${formatIssueList(issues)}`,
        {
          details: {
            strategy_id: config.id,
            strategy_type: config.strategy_type,
            issues: issues.map(({ path, ...rest }) => ({ field: rest.key === undefined ? path : path === '' ? rest.key : `${path}.${rest.key}`, ...rest })),
          },
        },
      );
    }
    return { config, definition, params: r.data };
  }
}

function resolveModule(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    return pathToFileURL(isAbsolute(specifier) ? specifier : resolve(baseDir, specifier)).href;
  }
  if (specifier.startsWith('file:')) return specifier;
  // A package name: resolve it from the configuration's directory first, then from the runner itself.
  try {
    return pathToFileURL(createRequire(resolve(baseDir, 'noop.js')).resolve(specifier)).href;
  } catch {
    return specifier;
  }
}

function looksLikeDefinition(v: unknown): v is AnyStrategyDefinition {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Partial<AnyStrategyDefinition>;
  return (
    typeof d.type === 'string' &&
    typeof d.create === 'function' &&
    typeof d.params === 'object' &&
    d.params !== null &&
    typeof (d.params as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** Every distinct definition among a module's exports (a default export that is an array counts too). */
export function collectDefinitions(mod: Record<string, unknown>): AnyStrategyDefinition[] {
  const out: AnyStrategyDefinition[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) v.forEach(visit);
    else if (isStrategyClass(v)) out.push(definitionFromClass(v));
    else if (looksLikeDefinition(v)) out.push(v);
  };
  for (const v of Object.values(mod)) visit(v);
  return out;
}
