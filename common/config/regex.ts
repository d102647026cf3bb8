// Regular expressions from the config are compiled when the config is read, so a pattern the engine
// refuses stops start-up naming its field instead of failing on the first session that uses it.

/** The engine's reason why `pattern` does not compile with `flags`; undefined when it does. */
export function regexError(pattern: string, flags = ''): string | undefined {
  try {
    new RegExp(pattern, flags);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
