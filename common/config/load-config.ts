// Reads the YAML config, applies environment overrides and validates the result. A bad config
// stops start-up with ConfigError naming the field (e.g. `targets.0.listen: expected host:port`).
//
// Environment overrides:
//   REDIS_URL -> redis.url, DATABASE_URL -> hub.databaseUrl, VIGIL_DATA_DIR -> dataDir,
//   VIGIL_LOG_LEVEL -> log.level, and any setting as VIGIL__PATH__TO__KEY (double underscores
//   between segments, case-insensitive; targets are addressed by name), e.g.
//   VIGIL__HUB__LISTEN=0.0.0.0:8080, VIGIL__TARGETS__DEMO__UPSTREAM__PASSWORD=s3cret.
//   Values are read as YAML, so numbers and booleans keep their type (one word ending in a colon,
//   such as a key prefix `prod-vigil:`, stays text). A value that is not YAML,
//   or that the schema refuses, is reported with the variable's name: env is where it is fixed.
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { Config } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Several problems as one error, a line each (start-up stops with it; `vigil config check` lists them). */
export function configProblems(source: string, problems: readonly string[]): ConfigError {
  return new ConfigError(`invalid config ${source}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/** Where an environment variable put its value, list items by index as the schema reports them. */
export interface Override {
  variable: string;
  path: Array<string | number>;
}

const ALIASES: Record<string, string[]> = {
  REDIS_URL: ['redis', 'url'],
  DATABASE_URL: ['hub', 'databaseUrl'],
  VIGIL_DATA_DIR: ['dataDir'],
  VIGIL_LOG_LEVEL: ['log', 'level'],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every object key the schema knows, so `DATABASEURL` can be mapped back to `databaseUrl`. */
function knownKeys(schema: z.ZodType, into = new Map<string, string>()): Map<string, string> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const walk = (s: unknown) => s && knownKeys(s as z.ZodType, into);
  switch (def.type) {
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        into.set(key.toLowerCase(), key);
        walk(child);
      }
      break;
    case 'optional': case 'default': case 'nullable': case 'prefault': case 'readonly':
      walk(def.innerType);
      break;
    case 'pipe':
      walk(def.in);
      walk(def.out);
      break;
    case 'array':
      walk(def.element);
      break;
    case 'union':
      for (const option of def.options as z.ZodType[]) walk(option);
      break;
  }
  return into;
}

function setPath(root: Obj, path: string[], value: unknown, source: string, overrides: Override[]): void {
  let node: unknown = root;
  const at: Array<string | number> = [];
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      // Arrays of named things (targets) are addressed by name.
      if (last) throw new ConfigError(`${source}: cannot replace a whole list item`);
      let index = node.findIndex((el) => isObj(el) && String(el.name).toLowerCase() === key.toLowerCase());
      if (index < 0) {
        index = node.push({ name: key.toLowerCase() }) - 1;
        // What the new item lacks (its protocol...) is then this variable's doing.
        overrides.push({ variable: source, path: [...at, index] });
      }
      node = node[index];
      at.push(index);
      continue;
    }
    if (!isObj(node)) throw new ConfigError(`${source}: ${path.slice(0, i).join('.')} is not an object`);
    at.push(key);
    if (last) node[key] = value;
    else {
      if (node[key] === undefined) node[key] = key === 'targets' ? [] : {};
      node = node[key];
    }
  }
  overrides.push({ variable: source, path: at });
}

/**
 * Puts the environment's settings into `raw`. Returns where each variable landed, so a schema
 * issue there can name it, and the variables that could not be applied.
 */
function overlayEnv(raw: Obj, env: NodeJS.ProcessEnv): { overrides: Override[]; problems: string[] } {
  const keys = knownKeys(Config);
  const overrides: Override[] = [];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    try {
      if (ALIASES[name]) {
        setPath(raw, ALIASES[name], value, name, overrides);
      } else if (name.startsWith('VIGIL__')) {
        const path = name.slice('VIGIL__'.length).split('__').map((seg) => keys.get(seg.toLowerCase()) ?? seg.toLowerCase());
        setPath(raw, path, parseValue(name, value), name, overrides);
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
    }
  }
  return { overrides, problems };
}

/** One word ending in a colon (`prod-vigil:`): YAML reads a mapping with no value, never a setting. */
const WORD_AND_COLON = /^[^\s{}[\],#&*!|>'"%@`]+:$/;

function parseValue(variable: string, value: string): unknown {
  if (WORD_AND_COLON.test(value)) return value;
  try {
    return YAML.parse(value);
  } catch (err) {
    // The YAML library adds a code frame on further lines; one line per problem reads better.
    throw new ConfigError(`${variable}: not valid YAML: ${(err as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue, overrides: readonly Override[]): string {
  const where = issue.path.length ? issue.path.join('.') : '(root)';
  const from = overrides
    .filter((o) => o.path.length <= issue.path.length && o.path.every((seg, i) => String(seg) === String(issue.path[i])))
    .reduce<Override | undefined>((best, o) => (!best || o.path.length > best.path.length ? o : best), undefined);
  return `${where}: ${issue.message}${from ? ` (from ${from.variable})` : ''}`;
}

/** Validates a raw config object (already merged with the environment: `overrides` says where). */
export function parseConfig(raw: unknown, source = '(config)', overrides: readonly Override[] = []): Config {
  const parsed = Config.safeParse(raw ?? {});
  if (!parsed.success) throw configProblems(source, parsed.error.issues.map((issue) => describeIssue(issue, overrides)));
  return parsed.data;
}

/** Reads FILE (or nothing), applies the environment and validates. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, defaults: Obj = {}): Config {
  let raw: unknown = structuredClone(defaults);
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
    }
    try {
      raw = YAML.parse(text) ?? {};
    } catch (err) {
      throw new ConfigError(`config ${file} is not valid YAML: ${(err as Error).message}`);
    }
    if (!isObj(raw)) throw new ConfigError(`config ${file}: expected a mapping at the top level`);
  }
  const source = file ?? '(defaults)';
  const { overrides, problems } = overlayEnv(raw as Obj, env);
  if (problems.length) throw configProblems(source, problems);
  return parseConfig(raw, source, overrides);
}
