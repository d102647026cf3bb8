// A list the dashboard reads from the hub a page at a time, where only the latest read counts: a
// newer one (another filter, a reload) makes an older answer moot, and a late one must not
// overwrite it. With the read's status and the hub's refusal, as the page shows them.
export type ReadStatus = 'idle' | 'loading' | 'done' | 'failed';

export class LatestRead {
  status = $state<ReadStatus>('loading');
  failure = $state('');
  #gen = 0;

  /** Fetches; if no newer read began meanwhile, applies what came (or keeps the refusal). */
  protected async read<T>(fetch: () => Promise<T>, apply: (result: T) => void | Promise<void>): Promise<void> {
    const gen = ++this.#gen;
    this.status = 'loading';
    try {
      const result = await fetch();
      if (gen !== this.#gen) return;
      this.failure = '';
      this.status = 'done';
      await apply(result);
    } catch (err) {
      if (gen !== this.#gen) return;
      this.failure = (err as Error).message;
      this.status = 'failed';
    }
  }
}
