// Loads the config for a command: the file given with --config, else the dev defaults; the
// environment applies on top either way. A config without targets gets the demo targets, as
// `vigil dev` serves them, so `vigil token` agrees with `vigil dev` for the same file.
import { loadConfig, parseConfig } from '../common/config/load-config.ts';
import type { Config } from '../common/config/schema.ts';
import { demoTargets, devDefaults } from './dev-defaults.ts';

export function loadCliConfig(file: string | undefined, opts: { addDemoTarget: boolean }, env: NodeJS.ProcessEnv = process.env): Config {
  const config = loadConfig(file, env, devDefaults());
  if (!opts.addDemoTarget || config.targets.length > 0) return config;
  return parseConfig({ ...config, targets: demoTargets() }, file);
}
