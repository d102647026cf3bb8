// Maps the cancel keys the agent hands its clients (in its own BackendKeyData) to the upstream
// keys of their sessions. Clients never learn upstream keys; keys are secrets, never recorded or
// logged.
import crypto from 'node:crypto';

export interface CancelTarget {
  /** Sends the upstream CancelRequest for this session. */
  cancel(): Promise<void>;
}

export interface AgentKey {
  processId: number;
  secretKey: Buffer;
}

export class CancelRegistry {
  private readonly entries = new Map<string, CancelTarget>();

  /** Issues a fresh agent key for a session and remembers where its cancels go. */
  register(target: CancelTarget): { key: AgentKey; release: () => void } {
    for (;;) {
      const processId = crypto.randomInt(1, 2 ** 31 - 1);
      // 4 bytes: what every libpq before protocol 3.2 expects.
      const secretKey = crypto.randomBytes(4);
      const id = mapKey(processId, secretKey);
      if (this.entries.has(id)) continue;
      this.entries.set(id, target);
      return { key: { processId, secretKey }, release: () => this.entries.delete(id) };
    }
  }

  lookup(processId: number, secretKey: Buffer): CancelTarget | undefined {
    return this.entries.get(mapKey(processId, secretKey));
  }

  get size(): number {
    return this.entries.size;
  }
}

function mapKey(processId: number, secretKey: Buffer): string {
  return `${processId}:${secretKey.toString('hex')}`;
}

