// Reads the YAML config, applies environment overrides and validates the result. A bad config
// stops start-up with ConfigError naming the field (e.g. `targets.0.listen: expected host:port`).
//
// Environment overrides:
//   REDIS_URL -> redis.url, DATABASE_URL -> hub.databaseUrl, VIGIL_DATA_DIR -> dataDir,
//   VIGIL_LOG_LEVEL -> log.level, and any setting as VIGIL__PATH__TO__KEY (double underscores
//   between segments, case-insensitive; targets are addressed by name), e.g.
//   VIGIL__HUB__LISTEN=0.0.0.0:8080, VIGIL__TARGETS__DEMO__UPSTREAM__PASSWORD=s3cret.
//   Values are read as YAML scalars, so numbers and booleans keep their type.
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { Config } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
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

function setPath(root: Obj, path: string[], value: unknown, source: string): void {
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      // Arrays of named things (targets) are addressed by name.
      let item = node.find((el) => isObj(el) && String(el.name).toLowerCase() === key.toLowerCase());
      if (!item) {
        if (last) throw new ConfigError(`${source}: cannot replace a whole list item`);
        item = { name: key.toLowerCase() };
        node.push(item);
      }
      node = item;
      continue;
    }
    if (!isObj(node)) throw new ConfigError(`${source}: ${path.slice(0, i).join('.')} is not an object`);
    if (last) node[key] = value;
    else {
      if (node[key] === undefined) node[key] = key === 'targets' ? [] : {};
      node = node[key];
    }
  }
}

export function applyEnv(raw: Obj, env: NodeJS.ProcessEnv): Obj {
  const keys = knownKeys(Config);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (ALIASES[name]) {
      setPath(raw, ALIASES[name], value, name);
    } else if (name.startsWith('VIGIL__')) {
      const path = name.slice('VIGIL__'.length).split('__').map((seg) => keys.get(seg.toLowerCase()) ?? seg.toLowerCase());
      setPath(raw, path, YAML.parse(value), name);
    }
  }
  return raw;
}

function formatIssues(error: z.ZodError, file: string): string {
  return error.issues
    .map((issue) => `  ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n')
    .replace(/^/, `invalid config ${file}:\n`);
}

/** Validates a raw config object (already merged with the environment). */
export function parseConfig(raw: unknown, source = '(config)'): Config {
  const parsed = Config.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, source));
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
  return parseConfig(applyEnv(raw as Obj, env), file ?? '(defaults)');
}
