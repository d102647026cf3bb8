// Targets a person may connect to, and a ready connection string for the logged-in person, so that
// nobody types credentials: the password is a short-lived Vigil token issued to them.
//   GET  /api/targets                       -> { targets: [{ name, protocol, address, recording, access, grant }] }
//   POST /api/targets/:name/connection      -> { command, uri | password, expiresAt }   (engineers, admins)
// Just-in-time access (issue 5) will narrow both to the targets a person holds a grant for.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { ConnectionResponse, TargetView } from '../../../common/api-contract.ts';
import type { Config } from '../../../common/config/schema.ts';
import { clientAddress, connectionUri, sshCommand, curlCommand, httpTargetUrl } from '../../../common/connection-uri.ts';
import type { TokenSigner } from '../../../common/tokens.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { edgeText, parseInput } from '../validate.ts';

const TargetParams = z.strictObject({ name: edgeText(64) });

/** tokenLimit: issuing tokens is rate-limited per address (rate-limit.ts). */
export function targetsRouter(config: Config, signer: TokenSigner, tokenTtlMs: number, tokenLimit: RequestHandler): Router {
  const router = Router();
  const users = allow('engineer', 'admin');

  router.get('/', users, (_req, res) => {
    const targets: TargetView[] = config.targets.map((t) => ({
      name: t.name,
      protocol: t.protocol,
      address: ((a) => `${a.host}:${a.port}`)(clientAddress(config, t)),
      recording: t.recording,
      access: t.access,
      grant: { defaultDuration: t.approval.defaultDuration, maxDuration: t.approval.maxDuration },
    }));
    res.json({ targets });
  });

  router.post('/:name/connection', users, tokenLimit, async (req, res) => {
    const { name } = parseInput(TargetParams, req.params, 'path parameter');
    const target = config.targets.find((t) => t.name === name);
    if (!target) throw AppError.notFound(`no target ${name}`);
    const user = principalOf(res).subject;
    const token = await signer.connectionToken(user, target.name, tokenTtlMs);
    const expiresAt = new Date(Date.now() + tokenTtlMs).toISOString();
    let body: ConnectionResponse;
    if (target.protocol === 'ssh') body = { command: sshCommand(config, target), password: token, expiresAt };
    else if (target.protocol === 'http') body = { command: curlCommand(config, target, token), password: token, url: httpTargetUrl(config, target), expiresAt };
    else {
      const uri = connectionUri(config, target, user, token);
      body = { command: `psql '${uri}'`, uri, expiresAt };
    }
    res.json(body);
  });

  return router;
}
