// What the agent holds for one HTTP target while it serves it: the config, where requests go (with
// the keep-alive pool towards it), the credential it injects, and how it masks and judges.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { HttpTarget } from '../../common/config/schema.ts';
import { Masker } from '../masking/masker.ts';
import { credentialSource, type CredentialSource } from './upstream-credential.ts';
import { RequestRules } from './request-rules.ts';
import { loginCookieName } from './client-token.ts';

export interface HttpTargetRuntime {
  config: HttpTarget;
  upstream: URL;
  /** The upstream URL's path without its trailing slash ('' for none): prefixed to every request's path. */
  basePath: string;
  agent: http.Agent;
  credential: CredentialSource;
  masker: Masker;
  rules: RequestRules;
  cookieName: string;
}

export function httpTargetRuntime(config: HttpTarget, upstreamUrl: string, env: NodeJS.ProcessEnv = process.env): HttpTargetRuntime {
  const upstream = new URL(upstreamUrl);
  const secure = upstream.protocol === 'https:';
  const ca = config.upstream?.caFile ? fs.readFileSync(config.upstream.caFile) : undefined;
  const pool = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
  return {
    config,
    upstream,
    basePath: upstream.pathname.replace(/\/+$/, ''),
    agent: secure ? new https.Agent({ ...pool, ...(ca ? { ca } : {}) }) : new http.Agent(pool),
    credential: credentialSource(config, env),
    masker: new Masker(config.masking),
    rules: new RequestRules(config.guardrails),
    cookieName: loginCookieName(config.name),
  };
}
