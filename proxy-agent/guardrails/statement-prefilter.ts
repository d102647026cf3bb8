// A statement whose text holds none of the words a rule could need cannot match: the parser (tens
// of microseconds a statement) is skipped for it. Sound because SQL keywords cannot be quoted,
// escaped or split: a DELETE statement has the word `delete` in its text, a DO block `do`. What
// turns a string into SQL at run time (a function body, EXECUTE in a DO block, dblink) has its
// own word, so it always goes to the parser. Words are read as SQL reads identifiers: a run of
// ASCII letters, digits, `_` and `$` that starts with a letter or `_` (a word glued to other
// characters is read conservatively, never missed).
import type { StatementKind } from '../../common/guardrails.ts';

/** The words without which a statement cannot be of a kind. */
const KIND_WORDS: Partial<Record<StatementKind, readonly string[]>> = {
  DELETE: ['delete'],
  DELETE_WITHOUT_WHERE: ['delete'],
  UPDATE: ['update'],
  UPDATE_WITHOUT_WHERE: ['update'],
  INSERT: ['insert'],
  MERGE: ['merge'],
  TRUNCATE: ['truncate'],
  DROP: ['drop'],
  ALTER: ['alter'],
  CREATE: ['create'],
  GRANT: ['grant', 'revoke'],
  REVOKE: ['revoke'],
  COPY: ['copy'],
  DO: ['do'],
  CALL: ['call'],
  ROLE: ['role', 'user', 'group'],
};

/**
 * Words that always need the parser: bodies and run-time SQL (unknown, or kinds inside), and the
 * client_encoding change the utf8-only rule refuses.
 */
const ALWAYS = ['do', 'call', 'function', 'procedure', 'dblink', 'dblink_exec', 'dblink_send_query', 'dblink_open', 'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'client_encoding', 'names', 'set_config'];

const WORD = /[A-Za-z_][A-Za-z0-9_$]*/g;

export class StatementPrefilter {
  private readonly words: ReadonlySet<string>;

  /** null when some rule's kinds have no telling word (SELECT, OTHER...): then every statement is parsed. */
  static forKinds(kinds: Iterable<StatementKind>): StatementPrefilter | null {
    const words = new Set(ALWAYS);
    for (const kind of kinds) {
      const needed = KIND_WORDS[kind];
      if (!needed) return null;
      for (const w of needed) words.add(w);
    }
    return new StatementPrefilter(words);
  }

  private constructor(words: Set<string>) {
    this.words = words;
  }

  /** False only when no rule can match and nothing in it runs SQL the agent has not read. */
  mayMatter(sql: string, isKnownRoutine: (name: string) => boolean): boolean {
    WORD.lastIndex = 0;
    for (let m = WORD.exec(sql); m !== null; m = WORD.exec(sql)) {
      const word = m[0].toLowerCase();
      if (this.words.has(word) || isKnownRoutine(word)) return true;
    }
    return false;
  }
}
