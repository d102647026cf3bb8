// The SSH public keys a person logs in with through the agents (instead of pasting a token):
//   GET    /api/ssh-keys                 -> { keys: [{ fingerprint, publicKey, name, addedAt }] }  one's own
//   POST   /api/ssh-keys  { publicKey, name? }  -> 201 { key }   (400 not a public key, 409 registered already)
//   DELETE /api/ssh-keys/:fingerprint    -> 204 (404 when it is not one's own)
// Each change is written to the agents' key directory at once, so a new key works on the next
// login and a removed one no longer does.
import express, { Router } from 'express';
import { z } from 'zod';
import type { SshKeyView } from '../../../common/api-contract.ts';
import type { SshKeyDirectory } from '../../../common/ssh-key-directory.ts';
import { parsePublicKeyLine } from '../../../common/ssh-public-key.ts';
import type { SshKey, SshKeyStore } from '../../ssh-keys/ssh-key-store.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { parseInput } from '../validate.ts';

const AddBody = z.strictObject({
  publicKey: z.string().min(1).max(16 * 1024),
  name: z.string().trim().max(100).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters').optional(),
});
const KeyParams = z.strictObject({ fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'expected SHA256:... as ssh-keygen -l prints it') });

const view = (k: SshKey): SshKeyView => ({ fingerprint: k.fingerprint, publicKey: k.publicKey, name: k.name, addedAt: k.addedAt });

export function sshKeysRouter(keys: SshKeyStore, directory: SshKeyDirectory): Router {
  const router = Router();
  const users = allow('engineer', 'admin');

  router.get('/', users, async (_req, res) => {
    res.json({ keys: (await keys.list(principalOf(res).subject)).map(view) });
  });

  router.post('/', users, express.json({ limit: '32kb' }), async (req, res) => {
    const body = AddBody.safeParse(req.body);
    if (!body.success) throw AppError.badRequest(`invalid body: ${body.error.issues[0]?.message ?? 'expected { publicKey, name }'}`);
    const parsed = parsePublicKeyLine(body.data.publicKey);
    if (parsed instanceof Error) throw AppError.badRequest(parsed.message);
    const user = principalOf(res).subject;
    const added = await keys.add({ fingerprint: parsed.fingerprint, user, publicKey: parsed.key, name: body.data.name || parsed.comment || parsed.type });
    if (!added) throw new AppError(409, 'conflict', `the key ${parsed.fingerprint} is registered already`);
    await directory.set(added.fingerprint, user);
    res.status(201).json({ key: view(added) });
  });

  router.delete('/:fingerprint', users, async (req, res) => {
    const { fingerprint } = parseInput(KeyParams, req.params, 'path parameter');
    if (!(await keys.remove(principalOf(res).subject, fingerprint))) throw AppError.notFound(`you have no key ${fingerprint}`);
    await directory.delete(fingerprint);
    res.status(204).end();
  });

  return router;
}

/** Writes every registered key into the directory (the hub at start: the store is the truth). */
export async function syncKeyDirectory(keys: SshKeyStore, directory: SshKeyDirectory): Promise<void> {
  await directory.replaceAll(new Map((await keys.list()).map((k) => [k.fingerprint, k.user])));
}
